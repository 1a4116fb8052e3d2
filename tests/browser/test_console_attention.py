"""Several conversations at once: tabs with unread counts and the total in the page title, opt-in sound
and desktop alerts (console and supervisor dashboard), reduced motion, and the new controls at desktop
and tablet size with no serious accessibility findings."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, DESKTOP, TABLET, axe_violations, fill_wrap_up, screenshot, sign_in
from tests.support.state import PASSWORD
from textline.models import Conversation

FIRST, SECOND = "+15550107401", "+15550107402"

# Records what the page asks the browser to show, then lets the real Notification do it. Test-side
# instrumentation of the browser's API (the app's code is untouched), installed before any script runs.
NOTIFICATION_SPY = """(() => {
  window.__shown = [];
  window.__signals = [];
  document.addEventListener('textline:attention', (e) => window.__signals.push(e.detail));
  const Real = window.Notification;
  if (!Real) return;
  function Spy(title, options) { window.__shown.push({title, body: (options || {}).body}); return new Real(title, options); }
  Object.defineProperty(Spy, 'permission', {get: () => Real.permission});
  Spy.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spy;
})()"""

AWAY = "() => { document.hasFocus = () => false; }"  # as if another window were in front


def live_console(page, email: str) -> None:
    """Signed in with the console connected (so it is in the volunteers' room before anyone texts)."""
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("status")).to_have_text("Live")


def claim_both(live, page) -> tuple[str, str]:
    """Two texters claimed in the console, the second one open. Returns their aliases."""
    live.text_in(FIRST, "hey, anyone there?")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    first = page.get_by_test_id("queue-item").locator("strong").inner_text()
    page.get_by_role("button", name=f"Claim {first}").click()
    expect(page.get_by_test_id("chat-alias")).to_have_text(first)
    live.text_in(SECOND, "i need to talk about school")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    second = page.get_by_test_id("queue-item").locator("strong").inner_text()
    page.get_by_role("button", name=f"Claim {second}").click()
    expect(page.get_by_test_id("chat-alias")).to_have_text(second)
    return first, second


def test_two_conversations_in_tabs_with_unread_counts(live, pages):
    live.user("sam@example.org", display_name="Sam", capacity=3)
    page = pages.new()
    live_console(page, "sam@example.org")
    first, second = claim_both(live, page)

    tablist = page.get_by_role("tablist", name="My conversations")
    tabs = tablist.get_by_role("tab")
    expect(tabs).to_have_count(2)
    expect(tablist.get_by_role("tab", selected=True)).to_have_accessible_name(re.compile(f"^{second}, "))
    expect(page).to_have_title("Console · Textline")

    # The first texter writes while the second conversation is open: its tab counts, the title totals.
    live.text_in(FIRST, "are you still there?")
    background = tablist.get_by_role("tab", name=re.compile(f"^{first}, .*, 1 unread$"))
    expect(background).to_be_visible()
    expect(background.get_by_test_id("unread")).to_have_text("1")
    expect(page).to_have_title("(1) Console · Textline")
    live.text_in(FIRST, "hello??")
    expect(tablist.get_by_role("tab", name=re.compile(f"^{first}, .*, 2 unread$"))).to_be_visible()
    expect(page).to_have_title("(2) Console · Textline")
    # A message in the open conversation is read as it arrives.
    live.text_in(SECOND, "exams start monday")
    expect(page.get_by_test_id("transcript")).to_contain_text("exams start monday")
    expect(tablist.get_by_role("tab", name=re.compile(f"^{second}, "))).not_to_have_accessible_name(
        re.compile("unread"))
    expect(page).to_have_title("(2) Console · Textline")
    screenshot(page, "console-tabs-unread")
    assert axe_violations(page, "console-tabs-unread") == []

    # Arrow keys move between tabs without opening; Enter opens, which clears the count.
    tablist.get_by_role("tab", selected=True).focus()
    page.keyboard.press("ArrowUp")
    expect(tablist.get_by_role("tab", name=re.compile(f"^{first}, "))).to_be_focused()
    expect(page.get_by_test_id("chat-alias")).to_have_text(second)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chat-alias")).to_have_text(first)
    expect(page.get_by_test_id("transcript")).to_contain_text("hello??")
    expect(tablist.get_by_role("tab", selected=True)).to_have_accessible_name(re.compile(f"^{first}, No risk flags$"))
    expect(page.get_by_test_id("unread")).to_have_count(0)
    expect(page).to_have_title("Console · Textline")

    # Ending one (with its wrap-up) leaves the other tab, with keyboard focus on it.
    page.get_by_role("button", name="End conversation…").click()
    fill_wrap_up(page, outcome="texter_left", topics=("Other",))
    page.get_by_role("button", name="End conversation", exact=True).click()
    expect(tabs).to_have_count(1)
    expect(tabs.first).to_be_focused()


def test_sound_and_desktop_alerts_are_opt_in_and_remembered(live, pages):
    live.user("sam@example.org", display_name="Sam", capacity=3)
    page = pages.new()
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(NOTIFICATION_SPY)
    live_console(page, "sam@example.org")
    controls = page.get_by_role("group", name="Sound and desktop alerts")
    sound = controls.get_by_role("button", name="Sound")
    desktop = controls.get_by_role("button", name="Desktop alerts")
    # Off by default: someone waiting makes no sound and no desktop alert.
    expect(sound).to_have_attribute("aria-pressed", "false")
    expect(desktop).to_have_attribute("aria-pressed", "false")
    page.evaluate(AWAY)
    live.text_in(FIRST, "hello")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    page.wait_for_function("() => window.__signals.length === 1")
    assert page.evaluate("() => window.__signals[0]") == {
        "kind": "queue", "title": "Someone is waiting on Textline", "body": "1 waiting.", "sound": False,
        "notification": False}
    assert page.evaluate("() => window.__shown") == []

    sound.click()
    desktop.click()  # the click is the user gesture the permission request needs
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(desktop).to_have_attribute("aria-pressed", "true")
    saved = json.loads(page.evaluate("() => localStorage.getItem('textline.attention')"))
    assert saved == {"sound": True, "notify": True}
    assert axe_violations(page, "console-attention-on") == []

    # Remembered after a reload; a new texter now sounds and shows a desktop alert.
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Live")
    expect(desktop).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_attribute("aria-pressed", "true")
    page.evaluate(AWAY)
    live.text_in(SECOND, "is this the teen line")
    expect(page.get_by_test_id("queue-item")).to_have_count(2)
    page.wait_for_function("() => window.__shown.length === 1")
    assert page.evaluate("() => window.__shown") == [{"title": "Someone is waiting on Textline",
                                                      "body": "2 waiting."}]
    signal = page.evaluate("() => window.__signals[window.__signals.length - 1]")
    assert signal["kind"] == "queue" and signal["notification"] is True
    # One claim at a time: until the first claim has landed, "first" is still the same queue row, and a
    # second click on it is refused ("someone else took it") with only one tab to show.
    claim = page.get_by_role("button", name=re.compile("^Claim Texter"))
    claim.first.click()
    expect(page.get_by_role("tab")).to_have_count(1)
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    claim.first.click()
    expect(page.get_by_role("tab")).to_have_count(2)
    live.text_in(FIRST, "my words stay private")  # the open tab is the second: this one is unread
    page.wait_for_function("() => window.__shown.length === 2")
    shown = page.evaluate("() => window.__shown[1]")
    assert shown["title"] == "New message on Textline" and "private" not in shown["body"]

    # Switched off again: nothing more is shown, and that is remembered too.
    desktop.click()
    expect(desktop).to_have_attribute("aria-pressed", "false")
    assert json.loads(page.evaluate("() => localStorage.getItem('textline.attention')"))["notify"] is False
    live.text_in(FIRST, "one more")
    expect(page.get_by_role("tab", name=re.compile(", 2 unread$"))).to_be_visible()
    assert page.evaluate("() => window.__shown.length") == 2


def test_supervisor_alerts_use_the_same_switches(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    page = pages.new()
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(NOTIFICATION_SPY)
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    controls = page.get_by_role("group", name="Sound and desktop alerts")
    controls.get_by_role("button", name="Desktop alerts").click()
    expect(controls.get_by_role("button", name="Desktop alerts")).to_have_attribute("aria-pressed", "true")
    page.evaluate(AWAY)
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in(FIRST, "something happened at home")
    conv = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]
    assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]
    assert sam.call("ask_adult", {"conversation_id": conv["id"]})["ok"]
    expect(page.get_by_test_id("alert")).to_have_count(1)
    page.wait_for_function("() => window.__shown.length === 1")
    assert page.evaluate("() => window.__shown[0].title") == "Textline: an adult is needed"
    assert page.evaluate("() => window.__signals[0].kind") == "alert"
    assert axe_violations(page, "supervise-alert") == []
    screenshot(page, "supervise-alert")


ANIMATED = """() => [...document.querySelectorAll('*')].flatMap((el) => [null, '::before', '::after'].map((p) => {
  const cs = getComputedStyle(el, p);
  const moving = cs.animationName !== 'none' || cs.transitionDuration.split(',').some((d) => parseFloat(d) > 0);
  return moving ? `${el.tagName.toLowerCase()}#${el.id}.${el.className}${p || ''}` : null;
})).filter(Boolean)"""


def test_reduced_motion_stops_every_animation(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in(FIRST, "can someone help")
    conv = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]
    assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]
    assert sam.call("ask_adult", {"conversation_id": conv["id"]})["ok"]
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    banner = page.locator("#alert-banner")
    expect(banner).to_be_visible()
    # Without the preference the banner glows (so the check below is not vacuous)...
    page.emulate_media(reduced_motion="no-preference")
    assert page.evaluate("() => getComputedStyle(document.getElementById('alert-banner')).animationName") == "pulse"
    # ...and with it, nothing on the dashboard, the console or the simulator moves.
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate(ANIMATED) == []
    page.goto("/console")
    expect(page.get_by_role("status")).to_have_text("Live")
    assert page.evaluate(ANIMATED) == []
    page.goto("/simulator")
    assert page.evaluate(ANIMATED) == []


def test_new_controls_fit_desktop_and_tablet(live, pages):
    for viewport, name, who, numbers in ((DESKTOP, "desktop", "sam", (FIRST, SECOND)),
                                         (TABLET, "tablet", "alex", ("+15550107411", "+15550107412"))):
        live.user(f"{who}@example.org", display_name=who.title(), capacity=3)
        page = pages.new(viewport=viewport)
        live_console(page, f"{who}@example.org")
        for n, number in enumerate(numbers, start=1):
            live.text_in(number, "hi")
            expect(page.get_by_test_id("queue-item")).to_have_count(1)
            page.get_by_test_id("queue-item").get_by_role("button", name=re.compile("^Claim Texter")).click()
            expect(page.get_by_role("tab")).to_have_count(n)
        for control in (page.get_by_role("button", name="Sound"), page.get_by_role("button", name="Desktop alerts"),
                        page.get_by_role("tab").first, page.get_by_role("button", name="End conversation…")):
            control.scroll_into_view_if_needed()
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
        page.get_by_role("button", name="End conversation…").click()
        box = page.get_by_role("dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
        assert box["height"] <= viewport["height"], (name, box)
        confirm = page.get_by_role("button", name="End conversation", exact=True)
        confirm.scroll_into_view_if_needed()
        expect(confirm).to_be_in_viewport()
        page.screenshot(path=str(ARTIFACTS / "screens" / f"console-wrap-up-{name}.png"))
        confirm.click()
        expect(page.get_by_test_id("end-error")).to_have_text("Choose how the conversation ended.")
        expect(page.get_by_label("How did it end?")).to_be_focused()
        expect(page.get_by_label("How did it end?")).to_have_attribute("aria-invalid", "true")
        assert axe_violations(page, f"console-wrap-up-refused-{name}") == []


def test_a_texter_who_sends_stop_still_gets_a_wrap_up(live, pages):
    live.user("sam@example.org", display_name="Sam", capacity=3)
    page = pages.new()
    live_console(page, "sam@example.org")
    first, second = claim_both(live, page)
    live.text_in(FIRST, "STOP")  # the first texter, in the background tab, opts out
    ended = page.get_by_role("tab", name=re.compile(f"^{first}, .*Ended"))
    expect(ended).to_be_visible()
    ended.click()
    expect(page.get_by_test_id("chat-alias")).to_have_text(f"{first} (ended)")
    expect(page.get_by_text("The texter sent STOP")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your reply")).to_be_hidden()
    page.get_by_role("button", name="Wrap up…").click()
    fill_wrap_up(page, outcome="texter_left", topics=("Family",))
    page.get_by_role("button", name="End conversation", exact=True).click()
    expect(page.get_by_role("tab")).to_have_count(1)
    expect(page.get_by_role("tab")).to_have_accessible_name(re.compile(f"^{second}, "))
    with live.db() as s:
        dispositions = s.scalars(select(Conversation.disposition).order_by(Conversation.id)).all()
    assert dispositions[0]["outcome"] == "opted_out" and dispositions[0]["topics"] == ["family"]
    assert dispositions[1] is None  # the other conversation is still going
