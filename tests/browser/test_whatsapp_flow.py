"""A texter on WhatsApp (the simulator's WhatsApp phone) and a volunteer, each in a real browser: the
console marks the conversation WhatsApp, and the reply arrives on the WhatsApp phone."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.support.state import PASSWORD

TEXTER = "+15550107301"


def test_a_whatsapp_texter_reaches_a_volunteer_and_hears_back(live, pages):
    live.user("sam@example.org", display_name="Sam")
    console = pages.new()
    sign_in(console, "sam@example.org", PASSWORD)

    phone = pages.new("/simulator")
    phone.get_by_label("Texting by").select_option("whatsapp")
    phone.get_by_label("This phone's number").fill(TEXTER)
    phone.get_by_label("This phone's number").press("Tab")
    phone.get_by_label("Training conversation").set_checked(False)
    phone.get_by_label("Text message").fill("hey, is this the whatsapp line?")
    phone.get_by_label("Text message").press("Enter")
    expect(phone.get_by_test_id("sim-status")).to_have_text("Delivered")
    expect(phone.get_by_test_id("sim-received").first).to_contain_text("you've reached Textline")

    item = console.get_by_test_id("queue-item")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("channel-badge")).to_have_text("WhatsApp")
    screenshot(console, "console-queue-whatsapp")
    item.get_by_role("button", name=re.compile("^Claim Texter")).click()
    expect(console.get_by_role("tab", name=re.compile("WhatsApp"))).to_have_count(1)
    expect(console.get_by_test_id("transcript")).to_contain_text("whatsapp line")
    console.get_by_role("textbox", name="Your reply").fill("Hi, I'm Sam. Yes, you can talk to us here.")
    console.get_by_role("button", name="Send").click()

    expect(phone.get_by_test_id("sim-received").last).to_contain_text("you can talk to us here")
    expect(console.get_by_test_id("status").last).to_contain_text("delivered")
    screenshot(console, "console-chat-whatsapp")
    screenshot(phone, "simulator-whatsapp")
