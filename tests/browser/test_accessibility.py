"""axe-core on every main screen (no serious or critical violations), and each screen's screenshots
at desktop and tablet size. The reports and pictures are in test-artifacts/browser/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.support.state import PASSWORD
from tests.support.texting import wrap_up
from tests.support.web import Browser
from tests.support.web import sign_in as sign_in_over_http


def check(page, name: str) -> None:
    screenshot(page, name)
    violations = axe_violations(page, name)
    assert violations == [], f"{name}: {violations}"


def test_login_page(live, pages):
    page = pages.new("/login")
    check(page, "login")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    check(page, "login-refused")


def test_console_pages(live, pages):
    live.user("sam@example.org", display_name="Sam")
    live.text_in("+15550107201", "i keep getting bullied at school and i don't want to go back")
    live.text_in("+15550107202", "hi")
    page = pages.new()
    sign_in(page, "sam@example.org", PASSWORD)
    expect(page.get_by_test_id("queue-item")).to_have_count(2)
    check(page, "console-waiting")
    page.get_by_role("button", name=re.compile("^Claim Texter")).first.click()
    expect(page.get_by_test_id("transcript")).to_contain_text("bullied")
    page.get_by_role("textbox", name="Your reply").fill("That sounds really hard. I'm glad you reached out.")
    page.get_by_role("textbox", name="Your reply").press("Enter")
    expect(page.get_by_test_id("message").filter(has_text="glad you reached out")
           .get_by_test_id("status")).to_contain_text("delivered")
    check(page, "console-chat")
    page.get_by_role("button", name="End conversation…").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    check(page, "console-wrap-up")


def test_simulator_page(live, pages):
    page = pages.new("/simulator")
    page.get_by_label("This phone's number").fill("+15550107203")
    page.get_by_label("This phone's number").press("Tab")
    page.get_by_label("Text message").fill("hello? is this the teen line")
    page.get_by_label("Text message").press("Enter")
    expect(page.get_by_test_id("sim-received")).to_have_count(1)
    check(page, "simulator")


@pytest.mark.parametrize("path, name", [
    ("/admin/users", "admin-users"), ("/admin/audit", "admin-audit"), ("/admin/texters", "admin-texters"),
])
def test_admin_pages(live, pages, path, name):
    live.user("ada@example.org", "admin", display_name="Ada")
    page = pages.new()
    sign_in(page, "ada@example.org", PASSWORD)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, name)


def test_admin_sign_in_waits_page(live, pages):
    live.user("ada@example.org", "admin", display_name="Ada")
    live.user("sam@example.org", display_name="Sam")
    guesser = Browser(live.base_url)
    for _ in range(4):  # enough wrong passwords for a wait to show, with its Lift button
        sign_in_over_http(guesser, "sam@example.org", "guess-guess-guess")
    page = pages.new()
    sign_in(page, "ada@example.org", PASSWORD)
    page.goto("/admin/sign-in-waits")
    expect(page.get_by_test_id("sign-in-waits")).to_contain_text("sam@example.org")
    check(page, "admin-sign-in-waits")
    page.get_by_role("button", name=re.compile("^Lift")).click()
    expect(page.get_by_role("alert")).to_contain_text("Lifted 1 wait for sam@example.org")
    check(page, "admin-sign-in-waits-lifted")


def test_admin_edit_user_page(live, pages):
    live.user("ada@example.org", "admin", display_name="Ada")
    sam = live.user("sam@example.org", display_name="Sam")
    page = pages.new()
    sign_in(page, "ada@example.org", PASSWORD)
    page.goto(f"/admin/users/{sam}")
    check(page, "admin-user")


def test_insights_page(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    sam = live.console("sam@example.org")
    live.track(sam)
    for i, body in enumerate(["exams are crushing me", "my friend stopped talking to me", "hi"]):
        live.text_in(f"+1555010730{i}", body)
    waiting = sam.wait_for("queue_view", lambda q: len(q) == 3)
    for conv in waiting[:2]:
        assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]
        reply = {"conversation_id": conv["id"], "body": "I'm here.", "client_id": f"r{conv['id']}"}
        assert sam.call("reply", reply)["ok"]
        assert sam.call("end", {"conversation_id": conv["id"], "disposition": wrap_up()})["ok"]
    # One escalation, acknowledged by an adult at once.
    assert sam.call("claim", {"conversation_id": waiting[2]["id"]})["ok"]
    asked = sam.call("ask_adult", {"conversation_id": waiting[2]["id"]})["escalation"]
    dana = live.console("dana@example.org")
    live.track(dana)
    assert dana.call("acknowledge", {"escalation_id": asked["id"]})["ok"]
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_test_id("total")).to_have_text("3")
    expect(page.get_by_test_id("chart-per-day")).to_be_visible()
    expect(page.get_by_test_id("escalations-total")).to_have_text("1")
    expect(page.get_by_test_id("escalations-in-time")).to_contain_text("100%")
    expect(page.get_by_test_id("wrap-up-summary")).to_contain_text("2 of 2 closed conversations")
    check(page, "insights")


def test_the_check_itself_catches_violations(live, pages):
    """A page broken on purpose (an unlabelled field, an image without alt text) must fail the check."""
    page = pages.new("/login")
    page.evaluate("""() => {
        document.getElementById('email').removeAttribute('id');
        const img = document.createElement('img');
        img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
        document.querySelector('main').append(img);
    }""")
    found = {v["id"] for v in axe_violations(page, "self-check")}
    assert {"label", "image-alt"} <= found


def test_content_security_policy_violations_are_caught(live, pages):
    """Every browser test fails on a CSP violation (an inline style or script slipped into a template):
    check that one is actually seen."""
    page = pages.new("/login")
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', "
                      "'<p style=\"color: red\">inline</p>')")
    assert len(pages.problems) == 1 and "Content Security Policy" in pages.problems[0]
    pages.problems.clear()  # seen on purpose
