"""Volunteer wellbeing in the browser, with axe: the console's pause ("I'm ready to go on"), "I need a
moment" and the check-out when going off shift; the adults' volunteers panel with a pause and a debrief,
at desktop size and on the adult's phone (390x844). Screenshots in test-artifacts/browser/screens/."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, screenshot, sign_in
from tests.support.state import PASSWORD
from tests.support.texting import wrap_up

HIGH = "i have the pills in my hand and i want to kill myself tonight"
PHONE = {"width": 390, "height": 844}


def check(page, name: str) -> None:
    screenshot(page, name)
    assert axe_violations(page, name) == [], name


def test_console_pause_moment_and_check_out(live, pages):
    live.user("sam@example.org", display_name="Sam", shift_started_at=datetime.now(timezone.utc))
    live.user("dana@example.org", role="supervisor", display_name="Dana")
    sock = live.console("sam@example.org")
    live.track(sock)
    sock.wait_for("hello")
    live.text_in("+15550109301", HIGH)
    conv = sock.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sock.call("claim", {"conversation_id": conv})["ok"]
    assert sock.call("end", {"conversation_id": conv, "disposition": wrap_up(risk="high", follow_up="adult"),
                             "note": ""})["ok"]
    live.text_in("+15550109302", "hey")

    page = pages.new()
    sign_in(page, "sam@example.org", PASSWORD)
    expect(page.get_by_test_id("pause-box")).to_contain_text("After a high-risk conversation")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    expect(page.get_by_role("button", name="Claim Texter", exact=False)).to_be_hidden()  # nobody offered
    check(page, "console-pause")
    page.get_by_role("button", name="I'm ready to go on").click()
    expect(page.get_by_test_id("pause-box")).to_be_hidden()
    expect(page.get_by_role("button", name="Claim Texter", exact=False)).to_be_visible()

    page.get_by_role("button", name="I need a moment").click()
    expect(page.get_by_role("dialog", name="Take a moment")).to_be_visible()
    page.get_by_label("A short note for the adults").fill("need some air")
    check(page, "console-moment")
    page.get_by_role("button", name="Hand over and pause").click()
    expect(page.get_by_test_id("pause-box")).to_contain_text("Asked for a moment")

    page.get_by_role("button", name="Go off shift").click()
    expect(page.get_by_role("dialog", name="Before you go")).to_be_visible()
    page.get_by_role("button", name="Go off shift", exact=True).last.click()  # nothing chosen: asked again
    expect(page.locator("#checkout-error")).to_contain_text("from 1 to 5")
    page.get_by_role("radio", name="2").check()
    page.get_by_label("I would like an adult to talk with me").check()
    check(page, "console-check-out")
    page.locator("#checkout-confirm").click()
    expect(page.get_by_test_id("shift-state")).to_have_text("Off shift")
    expect(page.get_by_test_id("wellbeing")).to_be_hidden()


def test_dashboard_volunteers_panel(live, pages):
    now = datetime.now(timezone.utc)
    live.user("sam@example.org", display_name="Sam", shift_started_at=now)
    live.user("alex@example.org", display_name="Alex", shift_started_at=now)
    live.user("dana@example.org", role="supervisor", display_name="Dana")
    alex, sam = live.console("alex@example.org"), live.console("sam@example.org")
    for client in (alex, sam):
        live.track(client)
        client.wait_for("hello")
    live.text_in("+15550109303", "my friend said something scary tonight")
    conv = alex.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert alex.call("claim", {"conversation_id": conv})["ok"]
    assert alex.call("need_moment", {"note": "this one is too close to home"})["ok"]
    assert sam.call("check_out", {"feeling": 2, "wants_adult": True})["debrief"]

    for viewport, name in ((PHONE, "phone-supervise-volunteers"), (None, "supervise-volunteers")):  # phone first: the desktop pass closes the debrief
        page = pages.new(viewport=viewport) if viewport else pages.new()
        sign_in(page, "dana@example.org", PASSWORD)
        panel = page.get_by_test_id("volunteers-panel")
        expect(panel.get_by_test_id("volunteer-row")).to_have_count(1)
        expect(panel.get_by_test_id("volunteer-paused")).to_contain_text("Asked for a moment")
        expect(panel.get_by_test_id("debrief")).to_contain_text("Felt low and asked to talk")
        if viewport:
            panel.scroll_into_view_if_needed()
            path = ARTIFACTS / "screens" / f"{name}-390x844.png"
            page.screenshot(path=str(path))
            assert axe_violations(page, name) == []
        else:
            check(page, name)
            panel.get_by_role("button", name="I'll talk with Sam").click()
            expect(panel.get_by_test_id("debrief")).to_contain_text("Dana has it")
            panel.get_by_role("button", name="Debrief with Sam done").click()
            expect(panel.get_by_test_id("debrief")).to_have_count(0)
            # The adult decides about Alex's conversation: back to the front of the queue.
            page.get_by_test_id("live").get_by_text("Texter", exact=False).first.click()
            page.on("dialog", lambda d: d.accept())
            page.get_by_role("button", name="Back to queue").click()
            expect(page.get_by_role("button", name="Back to queue")).to_be_hidden()


def test_console_reminds_before_the_shift_limit_and_stops_offering_at_it(live, pages):
    # The stack's defaults: a 240-minute shift, reminded 15 minutes before.
    live.user("sam@example.org", display_name="Sam", shift_started_at=datetime.now(timezone.utc) - timedelta(minutes=230))
    live.user("kim@example.org", display_name="Kim", shift_started_at=datetime.now(timezone.utc) - timedelta(minutes=245))
    live.text_in("+15550109304", "hi")
    sam = pages.new()
    sign_in(sam, "sam@example.org", PASSWORD)
    expect(sam.get_by_test_id("shift-note")).to_contain_text(re.compile(r"reaches its limit in (9|10) minutes"))
    expect(sam.get_by_role("button", name="Claim Texter", exact=False)).to_be_visible()
    kim = pages.new()
    sign_in(kim, "kim@example.org", PASSWORD)
    expect(kim.get_by_test_id("shift-note")).to_contain_text("no new texters")
    expect(kim.get_by_test_id("queue-item")).to_have_count(1)
    expect(kim.get_by_role("button", name="Claim Texter", exact=False)).to_be_hidden()
    check(kim, "console-shift-limit")
