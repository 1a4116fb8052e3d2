"""A volunteer and a texter, each in a real browser: the simulator texts in, the console answers."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import fill_wrap_up, screenshot, sign_in
from tests.support.servers import wait_until
from tests.support.state import PASSWORD
from textline.models import Conversation, SurveyResponse
from textline.texting.wording import default

DEFAULT_SURVEY, DEFAULT_SURVEY_THANKS = default("survey"), default("survey_thanks")

TEXTER = "+15550107001"


def open_simulator(pages, number: str, training: bool = False):
    phone = pages.new("/simulator")
    phone.get_by_label("This phone's number").fill(number)
    phone.get_by_label("This phone's number").press("Tab")  # "change" makes the phone watch that number
    phone.get_by_label("Training conversation").set_checked(training)
    return phone


def text_from(phone, body: str) -> None:
    phone.get_by_label("Text message").fill(body)
    phone.get_by_label("Text message").press("Enter")


def test_volunteer_answers_a_texter_from_the_simulator(live, pages):
    live.user("sam@example.org", on_shift=False, display_name="Sam")
    console = pages.new()
    sign_in(console, "sam@example.org", PASSWORD)
    expect(console.get_by_role("status")).to_have_text("Live")
    expect(console.get_by_test_id("shift-state")).to_have_text("Off shift")
    console.get_by_role("button", name="Go on shift").click()
    expect(console.get_by_test_id("shift-state")).to_have_text("On shift")
    expect(console.get_by_text("No one is waiting.")).to_be_visible()
    # No conversation open: nothing to reply in or end.
    expect(console.get_by_role("textbox", name="Your reply")).to_be_hidden()
    expect(console.get_by_role("button", name="End conversation…")).to_be_hidden()
    console.evaluate("() => { window.__sameDocument = true; }")  # gone if anything reloads the page

    phone = open_simulator(pages, TEXTER)
    text_from(phone, "hey, is anyone there? rough night")
    expect(phone.get_by_test_id("sim-sent")).to_have_text(re.compile("rough night"))
    expect(phone.get_by_test_id("sim-status")).to_have_text("Delivered")
    expect(phone.get_by_test_id("sim-received").first).to_contain_text("you've reached Textline")

    # The texter appears in the console live, with no reload.
    item = console.get_by_test_id("queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Texter ")
    expect(item.get_by_test_id("training-badge")).to_have_count(0)
    assert console.evaluate("() => window.__sameDocument === true")
    screenshot(console, "console-queue")

    item.get_by_role("button", name=re.compile("^Claim Texter")).click()
    expect(console.get_by_test_id("queue-item")).to_have_count(0)
    expect(console.get_by_test_id("chat-alias")).to_contain_text("Texter ")
    expect(console.get_by_test_id("transcript")).to_contain_text("rough night")
    expect(console.get_by_role("textbox", name="Your reply")).to_be_focused()

    console.get_by_role("textbox", name="Your reply").fill("Hi, I'm Sam. I'm glad you texted. What's going on tonight?")
    console.get_by_role("button", name="Send").click()
    sent = console.get_by_test_id("message").filter(has_text="I'm glad you texted")
    expect(sent.get_by_test_id("status")).to_contain_text("delivered")

    # The reply reaches the texter's phone.
    expect(phone.get_by_test_id("sim-received").filter(has_text="I'm glad you texted")).to_have_count(1)
    text_from(phone, "my parents were fighting again")
    expect(console.get_by_test_id("transcript")).to_contain_text("my parents were fighting again")
    screenshot(console, "console-conversation")
    screenshot(phone, "simulator")
    assert console.evaluate("() => window.__sameDocument === true")

    # Ending it sends the survey; the texter's "5" is stored against this conversation and thanked,
    # and no new conversation reaches the queue.
    console.get_by_role("button", name="End conversation…").click()
    fill_wrap_up(console, topics=("Family",), resources=("988 Suicide & Crisis Lifeline",))
    console.get_by_role("button", name="End conversation", exact=True).click()
    expect(console.get_by_role("heading", name="Pick a conversation")).to_be_visible()
    expect(console.get_by_role("textbox", name="Your reply")).to_be_hidden()
    expect(phone.get_by_test_id("sim-received").filter(has_text=DEFAULT_SURVEY)).to_have_count(1)
    text_from(phone, "5!")
    expect(phone.get_by_test_id("sim-received").filter(has_text=DEFAULT_SURVEY_THANKS)).to_have_count(1)
    with live.db() as s:
        convs = s.scalars(select(Conversation)).all()
        assert [(c.status, c.training) for c in convs] == [("closed", False)]
        assert convs[0].disposition == {"outcome": "supported", "topics": ["family"], "risk": "low",
                                        "resources": ["988"], "follow_up": "none", "by": "volunteer"}
        assert [(r.conversation_id, r.score) for r in s.scalars(select(SurveyResponse))] == [(convs[0].id, 5)]
    expect(console.get_by_test_id("queue-item")).to_have_count(0)


def test_training_conversations_are_marked_in_the_console(live, pages):
    live.user("sam@example.org", display_name="Sam")
    console = pages.new()
    sign_in(console, "sam@example.org", PASSWORD)
    phone = open_simulator(pages, "+15550107002", training=True)
    text_from(phone, "practice run: I'm stressed about exams")
    item = console.get_by_test_id("queue-item")
    expect(item.get_by_test_id("training-badge")).to_have_text("Training")
    item.get_by_role("button", name=re.compile("^Claim")).click()
    expect(console.locator("#chat-risk").get_by_test_id("training-badge")).to_be_visible()
    with live.db() as s:
        assert s.scalars(select(Conversation.training)).all() == [True]


def test_reply_box_counts_sms_segments_before_sending(live, pages):
    live.user("sam@example.org", display_name="Sam")
    live.text_in("+15550107003", "hello?")
    console = pages.new()
    sign_in(console, "sam@example.org", PASSWORD)
    console.get_by_role("button", name=re.compile("^Claim Texter")).click()
    expect(console.get_by_test_id("transcript")).to_contain_text("hello?")
    box, counter = console.get_by_role("textbox", name="Your reply"), console.get_by_test_id("reply-segments")
    box.fill("a" * 160)
    expect(counter).to_have_text("0 characters left · 1 text")
    box.fill("a" * 161)
    expect(counter).to_have_text(re.compile(r"^145 characters left · 2 texts$"))
    expect(counter).to_have_class(re.compile("many"))
    box.fill("you've got this 😊")  # the emoji (and the plain apostrophe is fine) switches to UCS-2
    expect(counter).to_have_attribute("data-encoding", "UCS-2")
    expect(counter).to_contain_text("70 per text")
    box.press("Enter")
    expect(console.get_by_test_id("message").filter(has_text="you've got this")).to_have_count(1)
    expect(counter).to_have_text("160 characters left · 1 text")  # the box emptied after sending
    wait_until(lambda: any("you've got this" in m.body for m in live.sent_to("+15550107003")), what="sent")
