"""Risk labels on the dashboard and the Triage page, in a real Chromium against the production-shape stack,
with axe-core (no serious or critical violations). Screenshots of the dashboard with its label buttons and
of the Triage page at 1280x720 and on a 390x844 phone, under test-artifacts/browser/screens/."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, sign_in
from tests.support.state import PASSWORD
from tests.support.texting import wrap_up

DESKTOP, PHONE = {"width": 1280, "height": 720}, {"width": 390, "height": 844}
AT_RISK, MISSED, ORDINARY = "+15550107501", "+15550107502", "+15550107503"


def shot(page, name: str, viewport: dict) -> None:
    page.set_viewport_size(viewport)
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-{viewport['width']}x{viewport['height']}.png"),
                    full_page=viewport is PHONE)


def test_an_adult_labels_risk_and_reads_the_triage_page(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    sam = live.console("sam@example.org")
    live.track(sam)
    sam.wait_for("hello")
    live.text_in(AT_RISK, "i'm going to kill myself tonight, i have the pills ready")
    live.text_in(MISSED, "my sister keeps taking my charger lol")
    queue = sam.wait_for("queue_view", lambda q: len(q) == 2)
    missed = next(c for c in queue if c["risk_level"] != "high")
    live.text_in(ORDINARY, "what time do you close tonight?")  # never labelled: ordinary
    # The volunteer's wrap-up says high risk where the scorer saw none: a miss, by the volunteer's label.
    assert sam.call("claim", {"conversation_id": missed["id"]})["ok"]
    assert sam.call("end", {"conversation_id": missed["id"], "disposition": wrap_up(
        topics=["family"], risk="high", follow_up="referral")})["ok"]

    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    alert = page.get_by_test_id("alert").first
    expect(alert).to_be_visible()
    # One click on the alert: the conversation needed an adult.
    alert.get_by_test_id("label-needed").click()
    expect(alert.get_by_test_id("label-needed")).to_have_attribute("aria-pressed", "true")
    alert.get_by_role("button", name="Open").click()
    expect(page.get_by_test_id("sv-labels").get_by_test_id("label-needed")).to_have_attribute("aria-pressed", "true")
    # And the text itself, in the transcript (once the welcome's receipts are in: the page is settled).
    expect(page.get_by_test_id("sv-transcript")).to_contain_text("delivered")
    text = page.get_by_test_id("sv-transcript").get_by_test_id("message").first
    text.get_by_test_id("label-needed").click()
    expect(text.get_by_test_id("label-needed")).to_have_attribute("aria-pressed", "true")
    assert axe_violations(page, "supervise-labels") == []
    text.scroll_into_view_if_needed()  # the screenshot shows the labelled text
    shot(page, "supervise-labels", DESKTOP)
    shot(page, "supervise-labels", PHONE)

    page.set_viewport_size(DESKTOP)
    page.goto("/supervise/triage")
    expect(page.get_by_role("heading", name=re.compile("^Triage"))).to_be_visible()
    expect(page.get_by_test_id("alert-recall")).to_contain_text("50% (1 of 2)")
    expect(page.get_by_test_id("alert-precision")).to_contain_text("100% (1 of 1)")
    expect(page.get_by_test_id("alert-ordinary")).to_contain_text("0% (0 of 1)")
    misses = page.get_by_test_id("misses-row")
    expect(misses).to_have_count(1)
    expect(misses).to_contain_text("the wrap-up")
    assert axe_violations(page, "triage") == []
    shot(page, "triage", DESKTOP)
    shot(page, "triage", PHONE)
    page.set_viewport_size(DESKTOP)
    # Each miss links to its transcript on the dashboard.
    misses.get_by_role("link").click()
    expect(page.get_by_test_id("sv-alias")).to_have_text(f"{missed['alias']} (ended)")


def test_an_admin_previews_and_saves_a_lexicon_edit(live, pages):
    live.user("ada@example.org", "admin", display_name="Ada")
    live.user("sam@example.org", display_name="Sam")
    sam = live.console("sam@example.org")
    live.track(sam)
    sam.wait_for("hello")
    live.text_in(MISSED, "zorbly blarg tonight")  # words no lexicon entry knows
    missed = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]
    assert missed["risk_level"] == "none"
    assert sam.call("claim", {"conversation_id": missed["id"]})["ok"]
    assert sam.call("end", {"conversation_id": missed["id"], "disposition": wrap_up(
        topics=["suicide"], risk="high", follow_up="referral")})["ok"]

    page = pages.new()
    sign_in(page, "ada@example.org", PASSWORD)
    page.goto("/admin/lexicon")
    page.get_by_label("Category").select_option("suicide_self_harm")
    page.get_by_label("Label (the reason volunteers read)").fill("zorbly blarg")
    page.get_by_label(re.compile("^Weight")).fill("80")
    page.get_by_label("Phrases, one per line").fill("zorbly blarg")
    # The preview and the save compile the lexicon: ~3 s of CPU, many times that on a busy machine.
    page.get_by_test_id("preview").click(timeout=60_000)
    expect(page.get_by_test_id("preview-summary")).to_contain_text("Of 1 labelled texts: 1 newly caught",
                                                                    timeout=60_000)
    expect(page.get_by_test_id("caught-row")).to_contain_text("zorbly blarg tonight")
    assert axe_violations(page, "lexicon-preview") == []
    shot(page, "lexicon-preview", DESKTOP)
    shot(page, "lexicon-preview", PHONE)
    page.set_viewport_size(DESKTOP)
    page.get_by_test_id("save").click(timeout=60_000)
    expect(page.get_by_role("alert")).to_contain_text("Saved", timeout=60_000)
    expect(page.get_by_test_id("edit-row")).to_contain_text("zorbly blarg")
    # The next texter's words are scored with it (the web process compiled it in the background).
    live.text_in(ORDINARY, "zorbly blarg")
    queued = sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] != missed["id"])[0]
    assert queued["risk_level"] == "high", queued
