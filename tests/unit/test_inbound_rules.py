"""Carrier keywords, off-hours replies and the automatic texts on the inbound path (textline/texting/inbound_rules.py).

Every text arrives as a signed webhook; what the texter's phone got is read back from the fake Twilio.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.safety import ALWAYS_OPEN, CLOSED_SCHEDULE, write_hours
from tests.support.texting import phone_live, text_live
from textline.extensions import db
from textline.models import AuditEvent, Conversation, Message, Texter
from textline.ops.cli import create_user
from textline.safety import auto_texts
from textline.texting import conversations, queue
from textline.texting.conversations import ConversationError

pytestmark = pytest.mark.usefixtures("app_ctx")

TEXTER = "+15550105555"
HIGH = "i have the pills in my hand and i want to kill myself tonight"


@pytest.fixture
def closed(cfg, tmp_path):
    cfg["HOURS"] = str(write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE))
    return tmp_path / "hours.yaml"


@pytest.fixture
def sam(app_ctx):
    return create_user("sam@example.org", "Sam", "volunteer", "a-long-password")


def text(live_app, body, number=TEXTER) -> Conversation:
    return text_live(live_app, body, number)


def phone(live_app, number=TEXTER) -> list[str]:
    return phone_live(live_app, number)


def outbound_kinds(conv_id=None):
    q = select(Message.kind).where(Message.direction == "out").order_by(Message.id)
    return db.session.scalars(q.where(Message.conversation_id == conv_id) if conv_id else q).all()


@pytest.mark.parametrize("word", ["STOP", "stop", "End", "QUIT!", "unsubscribe", "Cancel", "STOPALL"])
def test_stop_ends_the_conversation_opts_out_and_confirms_once(live_app, sam, word):
    conv = text(live_app, "hey")
    conversations.claim(conv.id, sam)
    assert queue.load_key(sam.id)
    text(live_app, word)
    db.session.refresh(conv)
    assert conv.status == "closed" and conv.disposition == {"outcome": "opted_out", "by": "system"}
    assert conv.texter.opted_out and conv.texter.opted_out_at is not None
    assert [m.body for m in conv.messages if m.direction == "in"] == ["hey", word]  # STOP is stored too
    assert outbound_kinds(conv.id) == ["welcome", "opt_out_confirmation"]
    assert phone(live_app)[-1] == auto_texts.opt_out_confirmation()
    from textline.redis_store import get_redis
    assert get_redis().smembers(queue.load_key(sam.id)) == set()  # off the volunteer's load
    with pytest.raises(ConversationError) as refused:
        conversations.reply(conv.id, sam, "wait, come back")
    assert refused.value.code == "opted_out"  # the volunteer is told why
    assert db.session.scalars(select(AuditEvent.action)).all() == ["texter.opt_out"]


def test_after_stop_nothing_reaches_the_texter_until_start(live_app, sam):
    text(live_app, "hi")
    text(live_app, "STOP")
    before = phone(live_app)
    text(live_app, "STOP")  # a second STOP: no second confirmation
    conv = text(live_app, "actually i do want to talk")  # a new conversation, still reaches a volunteer
    assert conv.status == "waiting" and conv.id in queue.ordered_ids()
    assert outbound_kinds(conv.id) == []  # no welcome to an opted-out number
    conversations.claim(conv.id, sam)
    msg = conversations.reply(conv.id, sam, "hi, I'm Sam")
    db.session.refresh(msg)
    assert (msg.status, msg.error_code) == ("refused", "opted-out")
    assert phone(live_app) == before
    text(live_app, "START")
    db.session.refresh(conv)
    assert not conv.texter.opted_out
    assert phone(live_app)[-1] == auto_texts.opt_in_confirmation()
    conversations.reply(conv.id, sam, "glad you're back")
    assert phone(live_app)[-1] == "glad you're back"


def test_yes_resubscribes_only_an_opted_out_number(live_app):
    text(live_app, "hi")
    conv = text(live_app, "yes")  # just an answer
    assert not conv.texter.opted_out and outbound_kinds(conv.id) == ["welcome"]
    text(live_app, "stop")
    text(live_app, "yes")
    texter = db.session.scalar(select(Texter))
    assert not texter.opted_out and phone(live_app)[-1] == auto_texts.opt_in_confirmation()


def test_sentences_with_keywords_in_them_are_ordinary_texts(live_app):
    conv = text(live_app, "i want to end it")
    assert conv.status == "waiting" and not conv.texter.opted_out


def test_help_answers_who_we_are_with_crisis_resources_and_still_reaches_a_volunteer(live_app):
    conv = text(live_app, "HELP")
    [reply] = phone(live_app)
    assert reply == auto_texts.help_text()
    assert "Textline" in reply and "988" in reply and "911" in reply and "STOP" in reply
    assert conv.status == "waiting" and conv.id in queue.ordered_ids()
    assert outbound_kinds(conv.id) == ["help"]  # instead of the welcome, not as well


def test_off_hours_text_is_stored_queued_and_answered_with_resources_and_when_to_come_back(live_app, closed):
    conv = text(live_app, "is anyone there")
    assert [m.body for m in conv.messages if m.direction == "in"] == ["is anyone there"]
    assert conv.status == "waiting" and conv.id in queue.ordered_ids()
    [reply] = phone(live_app)
    assert reply == auto_texts.off_hours()
    assert "January 1 at 6 PM Pacific" in reply  # the next opening in the schedule file
    assert "988" in reply and "741741" in reply and "911" in reply
    text(live_app, "hello?")  # told once, not on every text
    assert outbound_kinds() == ["off_hours"]


def test_off_hours_high_risk_gets_one_text_carrying_the_crisis_numbers(live_app, closed):
    conv = text(live_app, HIGH)
    assert outbound_kinds() == ["off_hours"]
    db.session.refresh(conv)
    assert conv.crisis_info_sent_at is not None


def test_reopening_the_line_takes_effect_without_a_restart(live_app, closed):
    text(live_app, "first", number="+15550105001")
    write_hours(closed, ALWAYS_OPEN)
    text(live_app, "second", number="+15550105002")
    assert outbound_kinds() == ["off_hours", "welcome"]


def test_a_schedule_file_broken_at_runtime_never_loses_a_text(live_app, closed):
    text(live_app, "one", number="+15550105001")
    write_hours(closed, "weekly: [this is not a schedule")
    conv = text(live_app, "two", number="+15550105002")
    assert [m.body for m in conv.messages if m.direction == "in"] == ["two"]
    assert outbound_kinds(conv.id) == ["off_hours"]  # the last good schedule still applies


def test_opted_out_texter_gets_no_off_hours_reply(live_app, closed):
    text(live_app, "stop")
    text(live_app, "hello")
    assert outbound_kinds() == ["opt_out_confirmation"]
