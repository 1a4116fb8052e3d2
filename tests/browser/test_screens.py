"""The screens as a person sees them, at the sizes people use: a volunteer's laptop (1280x720,
1366x768), a tablet (820x1180) and, for the adult on call, a phone (390x844).

What matters is asserted (the volunteer's own conversations and the reply box visible without
scrolling, dialogs' buttons on screen, no sideways scrolling on the phone, the first message in the
adult's transcript), axe runs on every screen, and each screen is kept as a picture of the viewport
under test-artifacts/browser/screens/ (what is above the fold is the point).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, axe_violations, sign_in
from tests.support.servers import wait_until
from tests.support.state import PASSWORD
from textline.models import Conversation, Escalation

LAPTOP = {"width": 1280, "height": 720}
WIDE_LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
SIZES = {"1280x720": LAPTOP, "1366x768": WIDE_LAPTOP, "820x1180": TABLET}
TOUCH = 44  # px: the smallest touch target on the phone

# Read by the lexicon as high risk (an alert for the adults), and by the model alone (review).
HIGH = "i want to kill myself tonight"
MODEL_ONLY = "wrote letters for my mom and my little brother. just in case"


def look(page, name: str) -> None:
    """Keep the viewport as the person sees it, and fail on serious or critical axe findings."""
    size = page.viewport_size
    path = ARTIFACTS / "screens" / f"{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path))
    found = axe_violations(page, f"{name}-{size['width']}x{size['height']}")
    assert found == [], f"{name}: {found}"


def box_of(locator) -> dict:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box, locator
    return box


def on_screen(page, locator, what: str) -> None:
    """Entirely inside the viewport with the page itself not scrolled: seen without scrolling."""
    assert page.evaluate("() => [window.scrollX, window.scrollY]") == [0, 0], f"{what}: the page scrolled"
    box, size = box_of(locator), page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5 \
        and box["y"] + box["height"] <= size["height"] + 0.5, f"{what} is not all on screen: {box} in {size}"
    # Not scrolled out of its panel nor covered: what is at its middle and near its corners is itself.
    hidden = locator.evaluate("""(el) => {
        const r = el.getBoundingClientRect(), points = [[0.5, 0.5], [0.1, 0.2], [0.9, 0.8]];
        return points.filter(([fx, fy]) => {
            const hit = document.elementFromPoint(r.left + r.width * fx, r.top + r.height * fy);
            return !hit || !(el === hit || el.contains(hit));
        }).length;
    }""")
    assert hidden == 0, f"{what} is clipped by its panel or covered"


def in_dialog_view(page, locator, what: str) -> None:
    """Inside the viewport (a dialog scrolls inside itself, never off the screen)."""
    box, size = box_of(locator), page.viewport_size
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 0.5 \
        and box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, f"{what} off screen: {box} in {size}"


def overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def no_sideways_scroll(page, what: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what}: the page scrolls sideways ({widths[0]} > {widths[1]} px)"


def big_enough(locator, what: str) -> None:
    box = box_of(locator)
    assert box["width"] >= TOUCH and box["height"] >= TOUCH, f"{what}: touch target {box}"


def busy_console(live, pages, viewport):
    """Sam on shift at a volunteer's screen: two conversations claimed (the first a long one) and
    three more texters waiting."""
    live.user("sam@example.org", display_name="Sam", capacity=3)
    for i in range(5):
        live.text_in(f"+1555010760{i}", "i keep getting bullied at school and i don't want to go back")
    page = pages.new(viewport=viewport)
    sign_in(page, "sam@example.org", PASSWORD)
    expect(page.get_by_test_id("queue-item")).to_have_count(5)
    for n in (1, 2):
        page.get_by_role("button", name=re.compile("^Claim Texter")).first.click()
        expect(page.get_by_role("tab")).to_have_count(n)
    for i in range(8):  # a long conversation: the transcript scrolls
        live.text_in("+15550107600", f"message {i}: it has been a really long week and nobody gets it")
    page.get_by_role("tab").first.click()
    expect(page.get_by_test_id("transcript")).to_contain_text("message 7")
    expect(page.locator("#chat-risk")).not_to_contain_text("null")
    page.get_by_role("textbox", name="Your reply").fill("I'm here. Take your time.")
    return page


@pytest.mark.parametrize("size", SIZES)
def test_volunteer_console_fits(live, pages, size):
    viewport = SIZES[size]
    page = busy_console(live, pages, viewport)
    expect(page.get_by_test_id("queue-item")).to_have_count(3)
    expect(page.get_by_role("status")).to_have_text("Live")
    on_screen(page, page.get_by_test_id("shift-state"), "the shift state")
    on_screen(page, page.get_by_role("heading", name=re.compile("^Waiting")), "the waiting list's heading")
    on_screen(page, page.get_by_role("heading", name="My conversations"), "My conversations")
    on_screen(page, page.get_by_role("tab").nth(0), "my first conversation")
    on_screen(page, page.get_by_role("tab").nth(1), "my second conversation")
    on_screen(page, page.get_by_role("status"), "the Live indicator")
    on_screen(page, page.get_by_role("textbox", name="Your reply"), "the reply box")
    on_screen(page, page.get_by_role("button", name="Send", exact=True), "Send")
    on_screen(page, page.get_by_role("button", name="End conversation…"), "End conversation")
    look(page, "console-busy")

    # Crisis resources open: the transcript keeps room to read, the reply box stays on screen.
    page.get_by_text("Crisis resources: insert into your reply").click()
    expect(page.get_by_test_id("resources").get_by_role("button").first).to_be_visible()
    transcript = box_of(page.get_by_test_id("transcript"))
    assert transcript["height"] >= 150, f"transcript squeezed to {transcript['height']} px"
    on_screen(page, page.get_by_role("textbox", name="Your reply"), "the reply box with resources open")
    on_screen(page, page.get_by_role("button", name="Send", exact=True), "Send with resources open")
    look(page, "console-resources")
    page.get_by_text("Crisis resources: insert into your reply").click()

    # The saved-reply picker covers neither the conversation's buttons nor its header.
    page.get_by_role("button", name=re.compile("^Saved replies")).click()
    picker = box_of(page.locator("#canned-picker"))
    for name in ("Ask an adult", "Transfer…", "End conversation…"):
        button = box_of(page.get_by_role("button", name=name))
        assert not overlap(picker, button), f"the saved-reply picker covers {name}: {picker} {button}"
    in_dialog_view(page, page.locator("#canned-picker"), "the saved-reply picker")
    look(page, "console-saved-replies")
    page.keyboard.press("Escape")

    # The wrap-up dialog fits: its buttons are on screen (the form scrolls inside the dialog).
    page.get_by_role("button", name="End conversation…").click()
    dialog = page.get_by_role("dialog")
    in_dialog_view(page, dialog, "the wrap-up dialog")
    in_dialog_view(page, dialog.get_by_role("button", name="End conversation", exact=True), "End conversation")
    in_dialog_view(page, dialog.get_by_role("button", name="Cancel"), "Cancel")
    look(page, "console-wrap-up")


def test_volunteers_see_plain_reasons_and_adults_see_the_model(live, pages):
    """The lexicon's reasons are plain ("bullied"); the model's words ("keep", "want", "back") look arbitrary
    to a teen volunteer, so only the adults see them, once, as "reads like texts that needed an adult"."""
    live.user("sam@example.org", display_name="Sam")
    live.user("dana@example.org", "supervisor", display_name="Dana")
    number = "+15550107610"
    live.text_in(number, "i keep getting bullied at school and i don't want to go back")
    live.text_in(number, "it has been a really long week and nobody gets it")
    sam = pages.new(viewport=LAPTOP)
    sign_in(sam, "sam@example.org", PASSWORD)
    sam.get_by_role("button", name=re.compile("^Claim Texter")).click()
    transcript = sam.get_by_test_id("transcript")
    expect(transcript).to_contain_text("nobody gets it")
    expect(sam.locator("#chat-risk")).to_contain_text('"bullied"')
    for where in (sam.locator("#chat-risk"), transcript):
        expect(where).not_to_contain_text("reads like")
        expect(where).not_to_contain_text("model")
    expect(transcript.locator("mark")).to_have_text(["bullied"])
    look(sam, "console-reasons")

    dana = pages.new(viewport=LAPTOP)
    sign_in(dana, "dana@example.org", PASSWORD)
    dana.goto("/supervise")
    dana.get_by_test_id("live-row").get_by_role("button").click()
    header = dana.locator("#sv-risk")
    expect(header).to_contain_text('"bullied"')
    expect(header).to_contain_text("reads like texts that needed an adult")
    assert header.inner_text().count("reads like") == 1, header.inner_text()  # once, however many texts
    expect(header).not_to_contain_text("model 0.")
    expect(dana.get_by_test_id("sv-transcript").locator("mark.model").first).to_be_visible()
    look(dana, "supervise-reasons")


def alert_scene(live) -> int:
    """A high-risk texter (an open alert) whose long conversation Sam is answering, and a second
    texter waiting; Dana is an adult advisor. Returns the alerting conversation's id."""
    live.user("sam@example.org", display_name="Sam")
    live.user("dana@example.org", "supervisor", display_name="Dana")
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in("+15550107620", HIGH)
    conv = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]
    assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]
    for i in range(10):
        live.text_in("+15550107620", f"text {i}: i don't know what to do anymore, everything is too much")
        assert sam.call("reply", {"conversation_id": conv["id"], "body": f"I'm listening ({i}).",
                                  "client_id": f"r{i}"})["ok"]
    live.text_in("+15550107621", "hi is anyone there")
    return conv["id"]


def dashboard_with_an_alert(live, pages, viewport):
    conv_id = alert_scene(live)
    page = pages.new(viewport=viewport)
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    expect(page.get_by_test_id("alert")).to_have_count(1)
    expect(page.get_by_test_id("live-row")).to_have_count(2)
    return page, conv_id


@pytest.mark.parametrize("size", SIZES)
def test_adult_dashboard_fits(live, pages, size):
    page, _ = dashboard_with_an_alert(live, pages, SIZES[size])
    card = page.get_by_test_id("alert")
    assert "High risk High risk" not in " ".join(card.inner_text().split()), card.inner_text()
    # Every risk badge is one line, however narrow the table.
    wrapped = page.evaluate("""() => [...document.querySelectorAll('#live .badge, #alerts .badge')]
        .filter((b) => b.getClientRects().length > 1 || b.getBoundingClientRect().height > 26).length""")
    assert wrapped == 0, f"{wrapped} risk badges wrap"
    card.get_by_role("button", name="Open").click()
    expect(page.get_by_test_id("sv-transcript")).to_contain_text("text 9")
    expect(page.locator("#sv-risk")).not_to_contain_text("null")
    # The texter's first message, the one that raised the alarm, is on screen, and so is Send as adult.
    on_screen(page, page.locator("#sv-chat").get_by_text(HIGH).first, "the first message")
    on_screen(page, page.get_by_role("textbox", name="Write to the texter as an adult advisor"), "the adult's reply box")
    on_screen(page, page.get_by_role("button", name="Send as adult"), "Send as adult")
    on_screen(page, page.get_by_role("button", name="Join as adult"), "Join as adult")
    look(page, "supervise-alert-open")
    page.get_by_role("button", name="End…").click()
    dialog = page.get_by_role("dialog")
    in_dialog_view(page, dialog.get_by_role("button", name="End conversation"), "End conversation")
    look(page, "supervise-end")


def sign_in_lands(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_each_role_lands_on_its_own_page_and_an_adult_can_switch(live, pages):
    live.user("sam@example.org", display_name="Sam")
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("ada@example.org", "admin", display_name="Ada")
    sam = pages.new(viewport=LAPTOP)
    sign_in_lands(sam, "sam@example.org")
    assert sam.url.endswith("/console"), sam.url
    for email in ("dana@example.org", "ada@example.org"):
        adult = pages.new(viewport=LAPTOP)
        sign_in_lands(adult, email)
        assert adult.url.endswith("/supervise"), (email, adult.url)
        nav = adult.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Supervise")).to_have_attribute("aria-current", "page")
        nav.get_by_role("link", name="Console").click()
        adult.wait_for_url("**/console")
        expect(nav.get_by_role("link", name="Console")).to_have_attribute("aria-current", "page")
        expect(adult.get_by_role("status")).to_have_text("Live")


def test_a_volunteer_off_shift_is_told_why_and_what_to_do(live, pages):
    live.user("sam@example.org", on_shift=False, display_name="Sam")
    live.text_in("+15550107630", "hello?")
    page = pages.new(viewport=LAPTOP)
    sign_in_lands(page, "sam@example.org")
    expect(page.get_by_role("status")).to_have_text("Live")
    help_text = page.get_by_test_id("off-shift-help")
    expect(help_text).to_be_visible()
    expect(help_text).to_contain_text("off shift")           # where they are,
    expect(help_text).to_contain_text("Go on shift")         # what to press,
    expect(help_text).to_contain_text("who is waiting")      # what it does,
    expect(help_text).to_contain_text("adult")               # and that nobody is left alone meanwhile
    expect(page.get_by_role("button", name="Go on shift")).to_have_class(re.compile("primary"))
    look(page, "console-off-shift")
    page.get_by_role("button", name="Go on shift").click()
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    expect(help_text).to_be_hidden()
    expect(page.get_by_role("button", name="Go off shift")).not_to_have_class(re.compile("primary"))


def test_simulator_texts_count_unless_marked_as_training(live, pages):
    page = pages.new("/simulator", viewport=LAPTOP)
    box = page.get_by_label("Training conversation")
    expect(box).not_to_be_checked()
    expect(page.locator("#sim-training-help")).to_contain_text("Insights")
    look(page, "simulator")
    page.get_by_label("This phone's number").fill("+15550107631")
    page.get_by_label("This phone's number").press("Tab")
    page.get_by_label("Text message").fill("is anyone there")
    page.get_by_label("Text message").press("Enter")
    expect(page.get_by_test_id("sim-received")).to_have_count(1)
    with live.db() as s:
        assert s.scalars(select(Conversation.training)).all() == [False]


def test_no_page_asks_for_a_missing_file(live, pages):
    """Every page has an icon (no favicon.ico 404 on each load) and loads nothing that is not there."""
    live.user("dana@example.org", "supervisor", display_name="Dana")
    page = pages.new(viewport=LAPTOP)
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    sign_in_lands(page, "dana@example.org")
    for path in ("/supervise", "/console", "/insights", "/simulator", "/login"):
        page.goto(path)
        page.wait_for_load_state("load")
        icon = page.locator("link[rel=icon]")
        expect(icon).to_have_count(1)
        assert page.request.get(icon.get_attribute("href")).ok
    page.wait_for_timeout(500)  # a favicon request goes out after the load event
    assert missing == []


def test_the_adult_on_call_answers_from_a_phone(live, pages):
    """Paged by SMS, Dana opens the page's link on her phone: after signing in she is on that
    conversation, and can read it, acknowledge, join and write as an adult with her thumb."""
    conv_id = alert_scene(live)
    page = pages.new(f"/supervise?conversation={conv_id}", viewport=PHONE)  # the link in the SMS page
    page.wait_for_url(re.compile("/login"))
    no_sideways_scroll(page, "sign-in")
    look(page, "phone-login")
    page.get_by_label("Email").fill("dana@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/supervise\?conversation={conv_id}$"))
    transcript = page.get_by_test_id("sv-transcript")
    expect(transcript).to_contain_text("text 9")  # that conversation, opened, brought into view
    in_dialog_view(page, page.get_by_test_id("sv-alias"), "the conversation's name")
    in_dialog_view(page, page.locator("#sv-chat").get_by_text(HIGH).first, "the first message")
    no_sideways_scroll(page, "the dashboard")
    for name in ("Join as adult", "Take over", "End…", "Send as adult", "Whisper"):
        big_enough(page.get_by_role("button", name=name, exact=True), name)
    page.screenshot(path=str(ARTIFACTS / "screens" / "phone-supervise-full-390x844.png"), full_page=True)
    look(page, "phone-conversation")

    # The alert list: Acknowledge and Open are big enough; acknowledging empties it.
    alert = page.get_by_test_id("alert")
    alert.scroll_into_view_if_needed()
    big_enough(alert.get_by_role("button", name=re.compile("^Acknowledge")), "Acknowledge")
    big_enough(alert.get_by_role("button", name="Open"), "Open")
    for row in page.get_by_test_id("live-row").all():
        big_enough(row.get_by_role("button"), "a live conversation's name")
    look(page, "phone-alerts")
    alert.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.get_by_test_id("alert")).to_have_count(0)

    # Join, then write to the texter as an adult.
    page.get_by_test_id("live-row").filter(has_text="High risk").get_by_role("button").click()
    page.get_by_role("button", name="Join as adult").click()
    expect(page.locator("#sv-who")).to_contain_text("adult joined: Dana")
    page.get_by_role("textbox", name="Write to the texter as an adult advisor").fill("Hi, I'm Dana, an adult here.")
    page.get_by_role("button", name="Send as adult").click()
    expect(transcript.get_by_test_id("message").filter(has_text="I'm Dana")).to_have_count(1)
    no_sideways_scroll(page, "the dashboard after sending")
    look(page, "phone-sent")
    wait_until(lambda: any("I'm Dana" in m.body for m in live.sent_to("+15550107620")), what="the adult's text")
    with live.db() as s:
        esc = s.scalar(select(Escalation).where(Escalation.conversation_id == conv_id))
        assert esc.acknowledged_by.display_name == "Dana"


ALL_SIZES = {**SIZES, "390x844": PHONE}
SCREENS = ("/login", "/simulator", "/console", "/supervise", "/insights", "/admin/users", "/admin/audit",
           "/admin/texters", "/admin/saved-replies")


@pytest.mark.parametrize("size", ALL_SIZES)
def test_every_screen_at_every_size(live, pages, size):
    """Each page as an admin sees it (every page is theirs to open), at each size: no sideways scrolling,
    no serious axe findings, a picture of the viewport kept. On a phone, the pages the adult on call
    uses (the admin pages are for a desk)."""
    viewport = ALL_SIZES[size]
    screens = [p for p in SCREENS if viewport is not PHONE or not p.startswith("/admin")]
    live.user("ada@example.org", "admin", display_name="Ada")
    live.text_in("+15550107640", "i keep getting bullied at school and i don't want to go back")
    page = pages.new(viewport=viewport)
    for path in screens:
        if path == "/console":
            sign_in(page, "ada@example.org", PASSWORD)
        page.goto(path)
        page.wait_for_load_state("load")
        if path in ("/console", "/supervise"):
            expect(page.get_by_role("status")).to_have_text("Live")
        name = "screen-" + (path.strip("/").replace("/", "-") or "home")
        no_sideways_scroll(page, name)
        look(page, name)
        page.screenshot(path=str(ARTIFACTS / "screens" / f"{name}-full-{size}.png"), full_page=True)
