"""Console tools in a real browser: the "/" saved-replies picker with the keyboard alone, a transfer
between two volunteers' consoles, the admin's saved-replies page; axe-core on the picker, the transfer
dialog and the admin page."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.browser.test_console_flow import open_simulator, text_from
from tests.browser.test_keyboard import focused, tab_to
from tests.support.servers import wait_until
from tests.support.state import PASSWORD
from textline.models import CannedResponse, Conversation, ConversationNote

SAFETY = "Sometimes when people feel this way, they think about suicide. Are you thinking about suicide?"


def check(page, name: str) -> None:
    screenshot(page, name)
    violations = axe_violations(page, name)
    assert violations == [], f"{name}: {violations}"


def saved_replies(live) -> None:
    with live.db() as s:
        s.add_all([CannedResponse(title="Greeting", category="Opening", body="Hi, thanks for texting. I'm here to listen."),
                   CannedResponse(title="Ask about suicide", category="Safety", body=SAFETY),
                   CannedResponse(title="Are you safe right now", category="Safety", body="Are you safe right now?"),
                   CannedResponse(title="Retired", body="never offered", active=False)])
        s.commit()


def test_saved_reply_picker_with_the_keyboard_alone(live, pages):
    saved_replies(live)
    live.user("sam@example.org", display_name="Sam")
    texter = "+15550107401"
    live.text_in(texter, "everything feels pointless lately")
    page = pages.new("/login")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("sam@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console")
    expect(page.get_by_role("status")).to_have_text("Live")
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    tab_to(page, lambda f: (f["label"] or "").startswith("Claim Texter"))
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Your reply")
    expect(box).to_be_focused()

    # "/" in the empty box opens the picker with its search box focused; only active replies are offered.
    page.keyboard.press("/")
    search = page.get_by_role("combobox", name="Saved replies: type to search")
    expect(search).to_be_focused()
    options = page.get_by_role("listbox", name="Saved replies").get_by_role("option")
    expect(options).to_have_count(3)
    expect(page.get_by_role("button", name=re.compile("^Saved replies"))).to_have_attribute("aria-expanded", "true")
    check(page, "console-saved-replies")
    # A text arriving meanwhile shows up without closing the picker or taking the focus away.
    live.text_in(texter, "are you still there?")
    expect(page.get_by_test_id("transcript")).to_contain_text("are you still there?")
    expect(search).to_be_focused()

    # Typing filters over title and text; arrows move the active option (aria-activedescendant follows).
    page.keyboard.type("safe")
    expect(options).to_have_count(2)  # "Are you safe right now" (title) first, then the suicide question (text)
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(options.first).to_contain_text("Are you safe right now")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    active_id = options.nth(1).get_attribute("id")
    expect(search).to_have_attribute("aria-activedescendant", active_id)
    page.keyboard.press("ArrowDown")  # wraps round
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    expect(options.nth(1)).to_contain_text("Ask about suicide")

    # Enter inserts it into the reply box, to edit: nothing is sent.
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("canned-picker")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value(SAFETY)
    expect(page.get_by_test_id("message").filter(has_text="thinking about suicide")).to_have_count(0)
    page.keyboard.press("End")
    page.keyboard.type(" I'm asking because I care.")
    page.keyboard.press("Enter")
    sent = page.get_by_test_id("message").filter(has_text="I'm asking because I care.")
    expect(sent.get_by_test_id("status")).to_contain_text("delivered")
    wait_until(lambda: any(m.body == SAFETY + " I'm asking because I care." for m in live.sent_to(texter)),
               what="the edited saved reply sent")

    # "/" in a box that has text is just a slash; Escape closes the picker with nothing inserted.
    page.keyboard.type("and/or")
    expect(page.get_by_test_id("canned-picker")).to_be_hidden()
    expect(box).to_have_value("and/or")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("nothing like this")
    expect(options).to_have_count(0)
    expect(page.get_by_text("No saved reply matches.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("canned-picker")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("")

    # The button opens it too (and says which key does): Tab to it, Enter, choose, Enter.
    tab_to(page, lambda f: f["id"] == "canned-open")
    page.keyboard.press("Enter")
    expect(search).to_be_focused()
    page.keyboard.type("greet")
    page.keyboard.press("Enter")
    expect(box).to_have_value("Hi, thanks for texting. I'm here to listen.")
    expect(box).to_be_focused()


def test_transfer_between_two_volunteers(live, pages):
    live.user("sam@example.org", display_name="Sam")
    live.user("alex@example.org", display_name="Alex")
    live.user("kim@example.org", display_name="Kim", on_shift=False)  # off shift: not offered
    sam = pages.new()
    sign_in(sam, "sam@example.org", PASSWORD)
    alex = pages.new()
    alex.add_init_script("window.__signals = []; document.addEventListener('textline:attention', "
                         "(e) => window.__signals.push(e.detail));")
    sign_in(alex, "alex@example.org", PASSWORD)
    expect(alex.get_by_role("status")).to_have_text("Live")
    phone = open_simulator(pages, "+15550107402")
    text_from(phone, "my mum is in hospital and i'm alone at home")

    sam.get_by_role("button", name=re.compile("^Claim Texter")).click()
    expect(sam.get_by_test_id("transcript")).to_contain_text("alone at home")
    alias = sam.get_by_test_id("chat-alias").inner_text()
    expect(phone.get_by_test_id("sim-received").first).to_contain_text("you've reached Textline")  # the welcome
    received_before = phone.get_by_test_id("sim-received").count()

    sam.get_by_role("button", name="Transfer…").click()
    dialog = sam.get_by_role("dialog", name="Transfer this conversation")
    expect(dialog).to_be_visible()
    people = dialog.get_by_role("radio")
    expect(people).to_have_count(1)
    expect(dialog.get_by_role("radio", name=re.compile(r"^Alex \(room for 2 more\)"))).to_be_checked()
    expect(dialog.get_by_role("radio", name=re.compile("^Alex"))).to_be_focused()
    # Confirming without a note is refused in place.
    dialog.get_by_role("button", name="Transfer", exact=True).click()
    expect(dialog.get_by_test_id("transfer-error")).to_have_text("Write a short handover note for your colleague.")
    dialog.get_by_label(re.compile("^Handover note")).fill("Mum in hospital, texter alone tonight. Not asked about safety yet.")
    check(sam, "console-transfer-dialog")
    dialog.get_by_role("button", name="Transfer", exact=True).click()

    # Sam: the conversation is gone, with a message saying where it went.
    expect(dialog).to_be_hidden()
    expect(sam.get_by_test_id("transfer-status")).to_have_text(f"You passed {alias} to Alex.")
    expect(sam.get_by_test_id("mine-item")).to_have_count(0)
    expect(sam.get_by_role("heading", name="Pick a conversation")).to_be_visible()

    # Alex: it arrives live, opened (Alex had nothing open), with the note in the transcript.
    expect(alex.get_by_test_id("transfer-status")).to_have_text(f"Sam passed {alias} to you, with a note.")
    expect(alex.get_by_test_id("mine-item")).to_have_count(1)
    expect(alex.get_by_test_id("chat-alias")).to_have_text(alias)
    note = alex.get_by_test_id("note")
    expect(note).to_contain_text("Not asked about safety yet.")
    expect(note).to_contain_text("Handover note from Sam (volunteer)")
    expect(alex.get_by_test_id("transcript")).to_contain_text("alone at home")
    # ...and it is signalled like a new texter (sound and desktop alert, when Alex has switched them on).
    signals = alex.evaluate("window.__signals.map((s) => s.title)")
    assert "A conversation was passed to you on Textline" in signals, signals
    screenshot(alex, "console-transferred-in")
    alex.get_by_role("textbox", name="Your reply").fill("Hi, I'm Alex, Sam's colleague. I'm here with you.")
    alex.get_by_role("textbox", name="Your reply").press("Enter")
    expect(phone.get_by_test_id("sim-received").filter(has_text="I'm Alex, Sam's colleague")).to_have_count(1)
    # The texter saw nothing of the transfer: the only new text is Alex's.
    expect(phone.get_by_test_id("sim-received")).to_have_count(received_before + 1)
    text_from(phone, "thank you")
    expect(alex.get_by_test_id("transcript")).to_contain_text("thank you")
    assert "thank you" not in sam.get_by_test_id("transcript").inner_text()
    with live.db() as s:
        conv = s.scalar(select(Conversation))
        assert conv.volunteer.display_name == "Alex"
        assert s.scalar(select(ConversationNote.kind)) == "transfer"


def test_admin_saved_replies_page(live, pages):
    live.user("ada@example.org", "admin", display_name="Ada")
    saved_replies(live)
    page = pages.new()
    sign_in(page, "ada@example.org", PASSWORD)
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Saved replies").click()
    expect(page.get_by_test_id("saved-reply")).to_have_count(4)
    check(page, "admin-saved-replies")
    # A refused form says what is wrong next to the field, and keeps what was typed.
    page.get_by_label(re.compile("^Title")).fill("greeting")
    page.get_by_label(re.compile("^Text inserted")).fill("Hello again")
    page.get_by_role("button", name="Add saved reply").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("Another saved reply is already called “Greeting”.")
    expect(page.get_by_label(re.compile("^Title"))).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(re.compile("^Text inserted"))).to_have_value("Hello again")
    check(page, "admin-saved-replies-refused")
    page.get_by_label(re.compile("^Title")).fill("Hello again")
    page.get_by_role("button", name="Add saved reply").click()
    expect(page.get_by_text("Added “Hello again”.")).to_be_visible()
    page.get_by_role("button", name="Deactivate Hello again").click()
    expect(page.get_by_test_id("saved-reply").filter(has_text="Hello again")).to_contain_text("deactivated")
    page.get_by_role("link", name="Edit Greeting").click()
    check(page, "admin-saved-reply")


def test_a_console_that_was_away_during_a_transfer_lets_the_conversation_go(live, pages):
    """Sam's console is disconnected while an adult passes Sam's conversation to Alex: when it
    reconnects, the conversation is gone from Sam's list, with no error."""
    live.user("sam@example.org", display_name="Sam")
    alex_id = live.user("alex@example.org", display_name="Alex")
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.text_in("+15550107403", "hello")
    alex, dana = live.console("alex@example.org"), live.console("dana@example.org")
    live.track(alex), live.track(dana)
    sam = pages.new()
    errors = []
    sam.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
    sign_in(sam, "sam@example.org", PASSWORD)
    sam.get_by_role("button", name=re.compile("^Claim Texter")).click()
    expect(sam.get_by_test_id("transcript")).to_contain_text("hello")
    sam.evaluate("() => TextlineConsole.socket.disconnect()")
    expect(sam.get_by_role("status")).to_have_text("Reconnecting…")
    with live.db() as s:
        conv = s.scalar(select(Conversation.id))
    # Alex's console is a script, without the page's heartbeat: with the stack's 3-second presence TTL a
    # slow machine let it lapse before the transfer, which was then refused (Alex not there).
    assert alex.call("heartbeat", {})["ok"]
    transferred = dana.call("transfer", {"conversation_id": conv, "volunteer_id": alex_id, "note": "Sam dropped off."})
    assert transferred["ok"], transferred
    alex.wait_for("transferred_in")
    sam.evaluate("() => TextlineConsole.socket.connect()")
    expect(sam.get_by_role("status")).to_have_text("Live")
    expect(sam.get_by_test_id("mine-item")).to_have_count(0)
    expect(sam.get_by_role("heading", name="Pick a conversation")).to_be_visible()
    assert errors == []
