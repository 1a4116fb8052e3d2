"""Outbound SMS through the real twilio client to the fake Twilio over HTTP (Celery eager: unit level)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.texting import fake_twilio_client, inject_faults
from textline.extensions import db
from textline.models import Conversation, Message, Texter, TexterPhone, utcnow
from textline.ops.cli import create_user
from textline.texting import conversations, delivery, queue
from workers.outbound import backoff, send_message, sweep_outbox

NUMBER = "+15550107777"


@pytest.fixture
def chat(live_app, app_ctx):
    """A volunteer holding an active conversation with a texter (made directly, so no welcome text)."""
    vol = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    texter = Texter(phone_hash="f" * 64, alias="Texter FFFF", phone=TexterPhone(number=NUMBER))
    conv = Conversation(texter=texter, status="active", volunteer_id=vol.id, risk_level="none", risk_reasons=[])
    db.session.add(conv)
    db.session.commit()
    queue.hold(conv.id, vol.id)
    return vol, conv


def faults(live_app, *items):
    inject_faults(live_app.base_url, live_app.account_sid, live_app.auth_token, *items)


def received(live_app):
    return fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=NUMBER)


def test_reply_reaches_twilio_once_with_status_callback(live_app, chat):
    vol, conv = chat
    msg = conversations.reply(conv.id, vol, "  I'm here. What's going on tonight?  ", "key-1")
    got = received(live_app)
    assert [(m.to, m.body) for m in got] == [(NUMBER, "I'm here. What's going on tonight?")]
    db.session.refresh(msg)
    assert msg.twilio_sid == got[0].sid and msg.attempts == 1


def test_repeated_console_request_and_repeated_task_send_once(live_app, chat):
    vol, conv = chat
    first = conversations.reply(conv.id, vol, "hello", "same-key")
    again = conversations.reply(conv.id, vol, "hello", "same-key")
    assert again.id == first.id
    send_message.delay(first.id)  # a duplicate task (redelivery) finds it already handed off
    assert len(received(live_app)) == 1


def test_5xx_is_retried_until_it_goes_through(live_app, chat):
    vol, conv = chat
    faults(live_app, {"status": 503}, {"status": 500})
    msg = conversations.reply(conv.id, vol, "still here", "k")
    db.session.refresh(msg)
    assert len(received(live_app)) == 1
    assert msg.attempts == 3 and msg.twilio_sid


def test_lost_answer_is_reconciled_not_sent_twice(live_app, chat):
    """Twilio created the message but its answer never reached us: the retry must find it, not resend."""
    vol, conv = chat
    faults(live_app, {"status": 502, "store": True})
    msg = conversations.reply(conv.id, vol, "you matter", "k")
    db.session.refresh(msg)
    got = received(live_app)
    assert len(got) == 1 and msg.twilio_sid == got[0].sid and msg.attempts == 1


def test_4xx_fails_at_once_without_retry(live_app, chat):
    vol, conv = chat
    faults(live_app, {"status": 400, "code": 21211})
    msg = conversations.reply(conv.id, vol, "hello", "k")
    db.session.refresh(msg)
    assert msg.status == "failed" and msg.error_code == "21211" and msg.attempts == 1
    assert received(live_app) == []


def test_opted_out_texter_is_never_sent_to(live_app, chat):
    vol, conv = chat
    conv.texter.opted_out = True
    db.session.commit()
    msg = conversations.reply(conv.id, vol, "hello?", "k")
    db.session.refresh(msg)
    assert msg.status == "refused" and msg.error_code == "opted-out"
    assert received(live_app) == []


def test_retries_give_up_and_mark_failed(live_app, chat):
    vol, conv = chat
    live_app.app.config["OUTBOUND_MAX_RETRIES"] = 2
    try:
        faults(live_app, *[{"status": 500}] * 8)
        msg = conversations.reply(conv.id, vol, "hello", "k")
    finally:
        live_app.app.config["OUTBOUND_MAX_RETRIES"] = 6
        faults(live_app)
    db.session.refresh(msg)
    assert msg.status == "failed" and msg.error_code == "retries-exhausted"


def test_sweep_resends_outbox_rows_whose_task_was_lost(live_app, chat):
    vol, conv = chat
    lost = Message(conversation=conv, direction="out", author_kind="volunteer", author_id=vol.id, body="lost task",
                   status="pending", created_at=utcnow() - timedelta(minutes=5))
    live = Message(conversation=conv, direction="out", author_kind="volunteer", author_id=vol.id, body="live",
                   status="submitting", submit_started_at=utcnow(), created_at=utcnow() - timedelta(minutes=5))
    db.session.add_all([lost, live])
    db.session.commit()
    assert delivery.stuck_message_ids(timedelta(seconds=60)) == [lost.id]
    assert sweep_outbox.delay().get() == 1
    assert [m.body for m in received(live_app)] == ["lost task"]


def test_backoff_is_short_and_bounded():
    assert [backoff(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_reply_validation(live_app, chat):
    vol, conv = chat
    other = create_user("alex@example.org", "Alex", "volunteer", "a-long-password")
    for who, body, code in [(vol, "   ", "empty"), (vol, "x" * 1601, "too_long"), (other, "hi", "forbidden")]:
        with pytest.raises(conversations.ConversationError) as err:
            conversations.reply(conv.id, who, body)
        assert err.value.code == code
    assert db.session.scalars(select(Message)).all() == []
