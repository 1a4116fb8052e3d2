"""A texter's picture in the console and on the adults' dashboard: a server-blurred preview, the picture
only after one click (which the server audits), never a Twilio URL, with axe on each state. Screens at
1280x720 (console) and 390x844 (dashboard on a phone) are left in test-artifacts/browser/screens/."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import ARTIFACTS, Pages, axe_violations, sign_in
from tests.support.servers import RedisServer, wait_until
from tests.support.stack import Stack, running, use_stack
from tests.support.state import PASSWORD
from tests.support.web import Browser, csrf_token
from textline.models import AuditEvent, MessageMedia

LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
TEXTER = "+15550108950"


def look(page, name: str) -> None:
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-{size['width']}x{size['height']}.png"))
    violations = axe_violations(page, name)
    assert violations == [], f"{name}: {violations}"


def picture_from_the_simulator(live, body: str) -> int:
    browser = Browser(live.base_url)
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": body, "picture": True},
                        headers={"X-CSRFToken": csrf_token(browser, "/simulator")})
    assert sent.status_code == 200, sent.text

    def stored():
        with live.db() as s:
            return s.scalar(select(MessageMedia.id).where(MessageMedia.state == "stored"))
    return wait_until(stored, timeout=30, what="the picture fetched by the worker")


def reveals(live) -> int:
    with live.db() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "media.reveal"))


def test_the_simulator_sends_a_picture(live, pages):
    phone = pages.new("/simulator", viewport=LAPTOP)
    phone.get_by_label("This phone's number").fill(TEXTER)
    phone.get_by_label("This phone's number").press("Tab")
    phone.get_by_label("Attach a picture").check()
    phone.get_by_label("Text message").fill("this is what they posted")
    phone.get_by_label("Text message").press("Enter")
    expect(phone.get_by_test_id("sim-sent")).to_contain_text("Picture")
    expect(phone.get_by_label("Attach a picture")).not_to_be_checked()
    expect(phone.get_by_test_id("sim-received")).to_have_count(1)  # the welcome
    look(phone, "simulator-picture")

    def stored():
        with live.db() as s:
            return s.scalar(select(MessageMedia.state))
    wait_until(lambda: stored() == "stored", timeout=30, what="the simulator's picture fetched")


def test_volunteer_reveals_a_picture_with_one_click(live, pages):
    live.user("sam@example.org", display_name="Sam")
    media_id = picture_from_the_simulator(live, "this is what they posted about me")
    page = pages.new(viewport=LAPTOP)
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    sign_in(page, "sam@example.org", PASSWORD)
    page.get_by_role("button", name="Claim Texter").first.click()
    figure = page.get_by_test_id("media-blurred")
    expect(figure).to_contain_text("Texter sent a picture")
    preview = figure.get_by_role("img")
    expect(preview).to_have_attribute("alt", "Blurred preview: the picture is hidden until you choose to see it")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    look(page, "console-picture-blurred")
    assert not [u for u in asked if "/reveal" in u or "twilio" in u.lower()], asked
    assert reveals(live) == 0

    page.get_by_role("button", name="Show picture").click()
    shown = page.get_by_test_id("media-shown").get_by_role("img", name="Picture the texter sent")
    expect(shown).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 320", arg=shown.element_handle())
    look(page, "console-picture-shown")
    assert reveals(live) == 1
    assert f"/media/{media_id}/reveal" in " ".join(asked)
    assert not [u for u in asked if "twilio" in u.lower()], asked


def test_adult_sees_the_picture_on_the_dashboard_on_a_phone(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    picture_from_the_simulator(live, "look")
    page = pages.new(viewport=PHONE)
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    page.get_by_test_id("live-row").get_by_role("button").first.click()
    figure = page.get_by_test_id("media-blurred")
    expect(figure).to_contain_text("No adult has looked at it yet")
    figure.scroll_into_view_if_needed()
    look(page, "supervise-picture-blurred")
    page.get_by_role("button", name="Show picture").click()
    expect(page.get_by_test_id("media-shown").get_by_role("img")).to_be_visible()
    page.get_by_test_id("media-shown").scroll_into_view_if_needed()
    look(page, "supervise-picture-shown")
    assert reveals(live) == 1


@pytest.fixture(scope="module")
def adults_first_stack(tmp_path_factory):
    """The production shape with MEDIA_ADULT_FIRST=1 (its own Redis, so its worker takes only its tasks)."""
    tmp = tmp_path_factory.mktemp("adults-first")
    redis_server = RedisServer(tmp).start()
    with running(Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'stack.sqlite3'}", MEDIA_ADULT_FIRST=1),
                 redis_server) as s:
        yield s


def test_adults_first_the_volunteer_sees_no_preview_until_an_adult_has_looked(adults_first_stack, chromium, request):
    live = next(use_stack(adults_first_stack, request))
    live.user("sam@example.org", display_name="Sam")
    live.user("dana@example.org", "supervisor", display_name="Dana")
    pages = Pages(chromium, live.base_url)
    try:
        picture_from_the_simulator(live, "can you see this")
        sam = pages.new(viewport=LAPTOP)
        asked = []
        sam.on("request", lambda r: asked.append(r.url))
        sign_in(sam, "sam@example.org", PASSWORD)
        sam.get_by_role("button", name="Claim Texter").first.click()
        held = sam.get_by_test_id("media-held")
        expect(held).to_contain_text("An adult advisor looks at pictures first")
        expect(held.get_by_role("img")).to_have_count(0)
        look(sam, "console-picture-held")
        assert not [u for u in asked if "/media/" in u], asked  # not even the blurred preview

        dana = pages.new(viewport=LAPTOP)
        sign_in(dana, "dana@example.org", PASSWORD)
        dana.goto("/supervise")
        dana.get_by_test_id("live-row").get_by_role("button").first.click()
        dana.get_by_role("button", name="Show picture").click()
        expect(dana.get_by_test_id("media-shown").get_by_role("img")).to_be_visible()
        # Sam's console learns an adult has looked: now the blurred preview and the button.
        expect(sam.get_by_test_id("media-blurred").get_by_role("button", name="Show picture")).to_be_visible()
        assert reveals(live) == 1
        assert not pages.problems, pages.problems
    finally:
        pages.close()
