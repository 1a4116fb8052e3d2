"""The returning-texter panel on the console and the Block form on the dashboard, in a real Chromium
against the production-shape stack, with axe-core (no serious or critical violations). Screenshots: the
console at 1280x720, the dashboard at 1280x720 and on a 390x844 phone, under test-artifacts/browser/."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, sign_in
from tests.support.state import PASSWORD
from tests.support.texting import wrap_up

TEXTER = "+15550107401"
PHONE = {"width": 390, "height": 844}


def shot(page, name: str, viewport: dict) -> None:
    """The screen as it is; on a phone the whole page (the dashboard puts the conversation under the board)."""
    page.set_viewport_size(viewport)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-{viewport['width']}x{viewport['height']}.png"),
                    full_page=viewport is PHONE)


def no_violations(page, name: str) -> None:
    assert axe_violations(page, name) == [], name


def test_the_volunteer_sees_a_returning_texter_s_earlier_wrap_ups(live, pages):
    live.user("sam@example.org", display_name="Sam")
    sam_socket = live.console("sam@example.org")
    live.track(sam_socket)
    sam_socket.wait_for("hello")
    live.text_in(TEXTER, "my parents keep fighting and i can't sleep")
    first = sam_socket.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam_socket.call("claim", {"conversation_id": first})["ok"]
    ended = sam_socket.call("end", {"conversation_id": first, "disposition": wrap_up(
        topics=["family", "anxiety"], risk="medium", follow_up="referral"), "note": "Gave the family helpline."})
    assert ended["ok"], ended
    live.text_in(TEXTER, "hi it's me again")

    page = pages.new()
    sign_in(page, "sam@example.org", PASSWORD)
    page.get_by_role("button", name=re.compile("^Claim Texter")).first.click()
    history = page.get_by_test_id("history")
    expect(history).to_be_visible()
    expect(history).to_contain_text("Has texted before: 1 earlier conversation")
    expect(page.get_by_test_id("history-item")).to_be_hidden()  # one line until the volunteer opens it
    history.locator("summary").click()
    item = page.get_by_test_id("history-item")
    expect(item).to_contain_text("Topics: Family, Anxiety or stress")
    expect(item).to_contain_text("Assessed risk: Medium")
    expect(item).to_contain_text("Gave the family helpline.")
    expect(page.get_by_test_id("transcript")).not_to_contain_text("parents keep fighting")  # no old transcript
    no_violations(page, "console-returning")
    shot(page, "console-returning", {"width": 1280, "height": 720})
    # the reply box is still on screen at 1280x720 with the panel open
    box = page.get_by_role("textbox", name="Your reply").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 720


def test_an_adult_opens_an_earlier_transcript_from_the_dashboard_history(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    sam = live.console("sam@example.org")
    live.track(sam)
    sam.wait_for("hello")
    live.text_in(TEXTER, "my parents keep fighting and i can't sleep")
    first = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": first})["ok"]
    assert sam.call("end", {"conversation_id": first, "disposition": wrap_up(topics=["family"])})["ok"]
    live.text_in(TEXTER, "hi again")
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    page.get_by_test_id("live-row").get_by_role("button").first.click()
    history = page.get_by_test_id("sv-history")
    expect(history).to_contain_text("Has texted before: 1 earlier conversation")
    history.locator("summary").click()
    no_violations(page, "supervise-history")
    page.get_by_role("button", name=re.compile("^Open transcript of")).click()
    expect(page.get_by_test_id("sv-transcript")).to_contain_text("parents keep fighting")  # adults may
    expect(page.get_by_test_id("sv-alias")).to_contain_text("(ended)")


def test_an_adult_blocks_a_texter_from_the_dashboard(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.text_in(TEXTER, "you are all useless")
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    page.get_by_test_id("live-row").get_by_role("button").first.click()
    page.get_by_role("button", name="Block…").click()
    dialog = page.get_by_role("dialog", name="Block this texter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Block texter").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Say why")
    expect(dialog.get_by_label(re.compile("^Why"))).to_be_focused()
    no_violations(page, "supervise-block-dialog")
    shot(page, "supervise-block-dialog", {"width": 1280, "height": 720})
    dialog.get_by_label(re.compile("^Why")).fill("Abusive messages to volunteers, three nights running.")
    dialog.get_by_label(re.compile("^For how many days")).fill("14")
    dialog.get_by_role("button", name="Block texter").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("sv-block")).to_contain_text("Abusive messages to volunteers")
    expect(page.get_by_test_id("live-row")).to_contain_text("blocked")
    expect(page.get_by_role("button", name="Block…")).to_be_hidden()
    no_violations(page, "supervise-blocked")
    shot(page, "supervise-blocked", {"width": 1280, "height": 720})
    shot(page, "supervise-blocked", PHONE)

    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_role("link", name="Review blocks").click()
    expect(page.get_by_test_id("block")).to_have_attribute("data-state", "in force")
    no_violations(page, "blocks-review")
    shot(page, "blocks-review", {"width": 1280, "height": 720})
    shot(page, "blocks-review", PHONE)
    page.get_by_role("button", name=re.compile("^Lift")).click()
    expect(page.get_by_test_id("block")).to_have_attribute("data-state", "lifted")
