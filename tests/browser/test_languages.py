"""Languages in the browser: the "ES" badge in a volunteer's queue (named "Spanish" for screen readers) and
Spanish texters offered first to a volunteer who reads Spanish; the languages on the volunteer's console and
on the admin's user page; the adults' alert when nobody on shift reads Spanish. axe-core on each screen;
screenshots at 1280x720 (and 390x844 for the dashboard) under test-artifacts/browser/screens/."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, axe_violations, screenshot, sign_in
from tests.support.state import PASSWORD
from textline.models import Conversation, User

PHONE = {"width": 390, "height": 844}
ENGLISH = ("+15550107501", "hey is anyone there? i really need to talk to someone")
SPANISH = ("+15550107502", "hola, tengo una pregunta sobre la escuela y mis amigos")  # no risk flags, as ENGLISH


def check(page, name: str, phone: bool = False) -> None:
    screenshot(page, name)
    if phone:  # the adults' dashboard is used on a phone too
        original = page.viewport_size
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-390x844.png"))
        page.set_viewport_size(original)
    violations = axe_violations(page, name)
    assert violations == [], f"{name}: {violations}"


def test_language_badges_order_and_profiles(live, pages):
    live.user("lu@example.org", display_name="Lu", languages="en es")
    live.user("sam@example.org", display_name="Sam", languages="en")
    live.user("ada@example.org", "admin", display_name="Ada", on_shift=False)
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.text_in(*ENGLISH)  # the English texter waits longer...
    live.text_in(*SPANISH)

    # ...but Lu, who reads Spanish, is offered the Spanish texter first (same risk level).
    lu = pages.new()
    sign_in(lu, "lu@example.org", PASSWORD)
    items = lu.get_by_test_id("queue-item")
    expect(items).to_have_count(2)
    first = items.nth(0).get_by_test_id("language-badge")
    expect(first).to_have_text("ES")
    expect(items.nth(0).get_by_role("img", name="Spanish")).to_have_text("ES")  # what a screen reader says
    expect(items.nth(1).get_by_test_id("language-badge")).to_have_text("EN")
    expect(lu.get_by_test_id("my-languages")).to_contain_text("You answer in English and Spanish")
    check(lu, "console-language-queue")

    # Sam reads English only: the line's order (longest wait first) stands.
    sam = pages.new()
    sign_in(sam, "sam@example.org", PASSWORD)
    expect(sam.get_by_test_id("queue-item").nth(0).get_by_test_id("language-badge")).to_have_text("EN")
    expect(sam.get_by_test_id("my-languages")).to_contain_text("You answer in English")

    # An admin edits a volunteer's languages on their user page.
    admin = pages.new()
    sign_in(admin, "ada@example.org", PASSWORD)
    admin.goto("/admin/users")
    admin.get_by_role("link", name="Edit Sam").click()
    group = admin.get_by_role("group", name="Answers texters in")
    expect(group.get_by_role("checkbox", name="English")).to_be_checked()
    expect(group.get_by_role("checkbox", name="Spanish")).not_to_be_checked()
    group.get_by_role("checkbox", name="Spanish").check()
    check(admin, "admin-user-languages")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("row", name="Sam")).to_contain_text("EN ES")

    # Nobody on shift reads Spanish any more: after ESCALATE_NO_SPEAKER_SECONDS the adults are alerted.
    with live.db() as s:
        for user in s.scalars(select(User).where(User.role == "volunteer")):
            user.languages, user.on_shift = "en", user.display_name == "Sam"
        for conv in s.scalars(select(Conversation)):
            conv.waiting_since -= timedelta(minutes=2)  # past ESCALATE_NO_SPEAKER_SECONDS, not yet the wait alert
        s.commit()
    live.run_task("workers.escalation.sweep_escalations")
    dana = pages.new()
    sign_in(dana, "dana@example.org", PASSWORD)
    dana.goto("/supervise")
    alert = dana.get_by_test_id("alert").filter(has_text="No Spanish-speaking volunteer on shift")
    expect(alert).to_have_count(1, timeout=30_000)
    expect(alert.get_by_test_id("language-badge")).to_have_attribute("aria-label", "Spanish")
    expect(dana.get_by_test_id("live-row").get_by_test_id("language-badge")).to_have_count(2)
    expect(dana.get_by_test_id("alert")).to_have_count(1)  # the ordinary wait alert is not due yet
    check(dana, "supervise-no-speaker", phone=True)

    # Dana reads the texts: this texter writes in English after all. She corrects it; the badge follows and
    # the no-speaker alert ends at the next sweep (Sam reads English).
    spanish_row = dana.get_by_test_id("live-row").filter(has=dana.get_by_role("img", name="Spanish"))
    spanish_row.get_by_role("button").first.click()
    expect(dana.get_by_label("Texter writes in")).to_have_value("es")
    dana.get_by_label("Texter writes in").select_option("en")
    expect(dana.locator("#sv-risk").get_by_test_id("language-badge")).to_have_text("EN")
    check(dana, "supervise-language-corrected")
    live.run_task("workers.escalation.sweep_escalations")
    expect(dana.get_by_test_id("alert")).to_have_count(0, timeout=30_000)


def test_resources_are_inserted_in_the_texter_s_language(live, pages):
    live.user("lu@example.org", display_name="Lu", languages="en es")
    live.text_in(*SPANISH)
    lu = pages.new()
    sign_in(lu, "lu@example.org", PASSWORD)
    lu.get_by_test_id("queue-item").get_by_role("button", name=re.compile("^Claim")).click()
    expect(lu.locator("#chat-risk").get_by_test_id("language-badge")).to_have_text("ES")  # its chat is open
    lu.get_by_text("Crisis resources: insert into your reply").click()
    lu.locator("#resources button[data-resource=\"988\"]").click()
    expect(lu.locator("#reply-body")).to_have_value(re.compile("AYUDA"))  # "text AYUDA to 988", in Spanish
    live.text_in(*ENGLISH)
    lu.get_by_test_id("queue-item").get_by_role("button", name=re.compile("^Claim")).click()
    expect(lu.locator("#chat-risk").get_by_test_id("language-badge")).to_have_text("EN")  # now this one's
    lu.locator("#reply-body").fill("")
    lu.locator("#resources button[data-resource=\"988\"]").click()
    expect(lu.locator("#reply-body")).to_have_value(re.compile("^Call or text 988"))
