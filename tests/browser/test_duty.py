"""Duty of care in the browser: the adults' work list on the dashboard and the report decision form,
each checked with axe, with screenshots at desktop and phone size (test-artifacts/browser/screens/)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, axe_violations, screenshot, sign_in
from tests.support.state import PASSWORD

PHONE = {"width": 390, "height": 844}
ABUSE = "my stepdad hits me when he drinks and i dont want to go home"


def check(page, name: str) -> None:
    screenshot(page, name)
    original = page.viewport_size
    page.set_viewport_size(PHONE)  # the adults' dashboard is used on a phone too
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-390x844.png"))
    page.set_viewport_size(original)
    violations = axe_violations(page, name)
    assert violations == [], f"{name}: {violations}"


def test_work_list_and_report_form(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.text_in("+15550109101", ABUSE)
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    work = page.get_by_test_id("work-item")
    expect(work).to_have_count(2)  # the high-risk alert and the report decision, oldest first
    expect(work.nth(0)).to_contain_text("Alert: High risk")
    expect(work.nth(1)).to_contain_text("Report decision owed")
    expect(work.nth(1)).to_contain_text("no adult yet")
    expect(page.locator("#work-count")).to_have_text("2")
    # Danger first: the open alerts come above the work list, on a laptop and on a phone.
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert page.locator("#alerts-title").bounding_box()["y"] < page.locator("#work-title").bounding_box()["y"]
    check(page, "supervise-work-list")

    # A watched conversation links to its duty page too.
    work.nth(0).get_by_role("button", name="Open").click()
    expect(page.get_by_test_id("sv-duty")).to_have_attribute("href", "/duty/conversations/1")

    work.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Duty of care")
    expect(page.get_by_test_id("report-state")).to_contain_text("Decision owed")
    check(page, "duty-report-form")

    # Not required, without saying why: refused, and the form says where.
    page.get_by_role("radio", name="Not required").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("alert").filter(has_text="Say why no report is required.")).to_be_visible()
    expect(page.get_by_label("Why no report is required")).to_have_attribute("aria-invalid", "true")
    check(page, "duty-report-form-error")

    page.get_by_role("radio", name="Reported").check()
    page.get_by_label("Reported to").select_option("child_protective_services")
    page.get_by_label("Reference number").fill("CPS-2026-0042")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("report-state")).to_contain_text("Decided: Reported to Child protective services")
    expect(page.get_by_test_id("report-state")).to_contain_text("CPS-2026-0042")

    page.get_by_label("Service contacted").fill("911")
    page.get_by_label("Outcome").fill("Police did a welfare check.")
    page.get_by_role("button", name="Record emergency contact").click()
    expect(page.get_by_test_id("emergency-record")).to_have_count(1)
    check(page, "duty-report-decided")

    # Decided: off the work list; the alert stays until it is dealt with.
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_test_id("work-item")).to_have_count(1)
    expect(page.get_by_test_id("work-item")).to_contain_text("Alert")
