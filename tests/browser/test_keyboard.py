"""The console's main actions with the keyboard alone: sign in, go on shift, claim, reply, end."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.servers import wait_until
from tests.support.state import PASSWORD
from textline.models import Conversation

TEXTER = "+15550107101"


def focused(page) -> dict:
    return page.evaluate("""() => { const a = document.activeElement;
        return {id: a.id, tag: a.tagName, text: (a.textContent || '').trim(), label: a.getAttribute('aria-label'),
                visible: a.matches(':focus-visible')}; }""")


def tab_to(page, wanted, backwards: bool = False, limit: int = 40) -> dict:
    """Press Tab (or Shift+Tab) until `wanted(focused element)` holds; fail if focus never gets there.
    Every stop on the way must show where focus is (:focus-visible); passing the end of the page
    (focus on the document body, the browser's own controls in a real window) is allowed."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        assert now["visible"] or now["tag"] == "BODY", f"focus is not visible on {now}"
        if wanted(now):
            return now
    raise AssertionError(f"{limit} presses of Tab never reached the element; ended on {focused(page)}")


def test_main_actions_work_from_the_keyboard(live, pages):
    live.user("sam@example.org", on_shift=False, display_name="Sam")
    page = pages.new("/login")

    # The email box has focus on arrival; type, Tab, type, Enter. Chromium applies `autofocus` when it next
    # renders, which on a busy machine can come after the load event that ends goto(): wait for it.
    expect(page.locator("#email")).to_be_focused()
    assert focused(page)["id"] == "email"
    page.keyboard.type("sam@example.org")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console")
    expect(page.get_by_role("status")).to_have_text("Live")

    tab_to(page, lambda f: f["id"] == "shift-toggle")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-state")).to_have_text("On shift")

    live.text_in(TEXTER, "can i talk to someone")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    tab_to(page, lambda f: (f["label"] or "").startswith("Claim Texter"))
    page.keyboard.press("Enter")
    # Claiming puts the cursor in the reply box: type and press Enter to send.
    expect(page.get_by_role("textbox", name="Your reply")).to_be_focused()
    page.keyboard.type("Hi, I'm Sam. I'm here and I'm listening.")
    page.keyboard.press("Enter")
    reply = page.get_by_test_id("message").filter(has_text="I'm listening")
    expect(reply.get_by_test_id("status")).to_contain_text("delivered")
    wait_until(lambda: any("I'm listening" in m.body for m in live.sent_to(TEXTER)), what="reply sent")

    # Shift+Enter is a new line, not a send.
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert page.get_by_role("textbox", name="Your reply").input_value() == "line one\nline two"
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")

    # End: back up to the button, open the wrap-up dialog, choose with arrow keys, confirm. Each
    # incomplete try is refused with the reason, focus goes to what is missing, nothing closes.
    tab_to(page, lambda f: f["id"] == "end-open", backwards=True)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert focused(page)["id"] == "end-outcome"
    page.keyboard.press("ArrowDown")  # "Texter felt supported"
    assert page.get_by_label("How did it end?").input_value() == "supported"

    def confirm_refused(reason: str) -> None:
        tab_to(page, lambda f: f["id"] == "end-confirm")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("end-error")).to_have_text(reason)
        expect(dialog).to_be_visible()

    confirm_refused("Choose at least one topic.")
    assert page.evaluate("() => document.activeElement.name") == "topics"  # the first topic box
    expect(page.locator("#end-topics")).to_have_attribute("aria-invalid", "true")
    page.keyboard.press("Space")  # tick "Family"
    confirm_refused("Choose the risk level you assessed.")
    assert focused(page)["id"] == "end-risk"
    page.keyboard.press("ArrowDown")  # "None"
    confirm_refused("Choose the follow-up.")
    assert focused(page)["id"] == "end-follow-up"
    page.keyboard.press("ArrowDown")  # "None needed"
    tab_to(page, lambda f: f["id"] == "end-note")
    page.keyboard.type("Talked it through.")
    with live.db() as s:
        assert s.scalar(select(Conversation.status)) == "active"  # every refusal left it open
    tab_to(page, lambda f: f["id"] == "end-confirm")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Pick a conversation")).to_be_visible()
    with live.db() as s:
        conv = s.scalar(select(Conversation))
        assert conv.status == "closed" and conv.wrap_up_note == "Talked it through."
        assert conv.disposition == {"outcome": "supported", "topics": ["family"], "risk": "none", "resources": [],
                                    "follow_up": "none", "by": "volunteer"}

    # Escape closes the dialog without ending anything.
    live.text_in("+15550107102", "hello")
    tab_to(page, lambda f: (f["label"] or "").startswith("Claim Texter"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Your reply")).to_be_focused()
    tab_to(page, lambda f: f["id"] == "end-open", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_test_id("chat-alias")).to_be_visible()
