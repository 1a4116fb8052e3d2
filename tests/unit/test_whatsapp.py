"""WhatsApp on the same webhooks: the texter simulator's WhatsApp phone to a volunteer and back through
the fake Twilio, one texter per channel, WhatsApp's 24-hour window, and a channel with no sender."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.servers import wait_until
from tests.support.state import make_user
from tests.support.texting import (
    ConsoleClient, fake_twilio_client, inbound_params, login, post_signed,
)
from tests.support.web import Browser, csrf_token
from textline.extensions import db
from textline.models import Conversation, Message, Texter, TexterPhone, utcnow
from textline.redis_store import get_redis

NUMBER = "+15550107201"
WHATSAPP = f"whatsapp:{NUMBER}"
SENDER = "whatsapp:+15550001111"  # the fake Twilio's default WhatsApp sender (config.py)


def simulator_send(live_app, number: str, body: str):
    browser = Browser(live_app.base_url)
    token = csrf_token(browser, "/simulator")
    return browser, browser.post("/simulator/send", json={"number": number, "body": body},
                                 headers={"X-CSRFToken": token})


def thread(browser, number: str) -> list[tuple[str, str]]:
    return [(m["direction"], m["body"]) for m in
            browser.get("/simulator/thread", params={"number": number}).json()["messages"]]


@pytest.fixture
def volunteer(live_app):
    make_user(db.session, "sam@example.org", on_shift=True)
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", "a-long-password"))
    yield sam
    sam.close()


def conversation() -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation))


def test_a_whatsapp_conversation_works_end_to_end_through_the_simulator(live_app, app_ctx, volunteer):
    browser, sent = simulator_send(live_app, WHATSAPP, "hi, can I talk to someone")
    assert sent.status_code == 200, sent.text
    conv = conversation()
    assert conv.channel == "whatsapp"
    assert db.session.scalar(select(TexterPhone.number)) == WHATSAPP
    [row] = volunteer.wait_for("queue_view", lambda q: len(q) == 1)
    assert row["channel"] == "whatsapp"
    assert volunteer.call("claim", {"conversation_id": conv.id})["conversation"]["channel"] == "whatsapp"
    assert volunteer.call("reply", {"conversation_id": conv.id, "body": "I'm here. What's going on?",
                                    "client_id": "r1"})["ok"]
    wait_until(lambda: ("in", "I'm here. What's going on?") in thread(browser, WHATSAPP),
               what="the reply on the WhatsApp phone")
    twilio = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token)
    received = twilio.messages.list(to=WHATSAPP)
    assert len(received) == 2 and {m.from_ for m in received} == {SENDER}  # welcome and reply
    assert twilio.messages.list(to=NUMBER) == []  # nothing went out by SMS


def test_one_number_on_sms_and_on_whatsapp_is_two_texters(live_app, app_ctx):
    for address in (NUMBER, WHATSAPP):
        params = inbound_params(live_app.account_sid, address, "hello")
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
    db.session.expire_all()
    assert len(db.session.scalars(select(Texter)).all()) == 2
    assert sorted(db.session.scalars(select(Conversation.channel)).all()) == ["sms", "whatsapp"]


def test_a_reply_after_whatsapps_24_hours_is_refused_at_the_sender_with_the_reason(live_app, app_ctx, volunteer):
    _, sent = simulator_send(live_app, WHATSAPP, "hi")
    assert sent.status_code == 200
    conv = conversation()
    assert volunteer.call("claim", {"conversation_id": conv.id})["ok"]
    conv.last_inbound_at = utcnow() - timedelta(hours=24, minutes=1)  # the texter's last message, a day ago
    db.session.commit()
    reply = volunteer.call("reply", {"conversation_id": conv.id, "body": "are you still there?", "client_id": "r2"})
    status = volunteer.wait_for("message_status", lambda m: m["id"] == reply["message"]["id"]
                                and m["status"] == "refused")
    assert status["error_code"] == "whatsapp-24h"
    twilio = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token)
    assert [m.body for m in twilio.messages.list(to=WHATSAPP) if "still there" in m.body] == []


def test_whatsapp_without_a_configured_sender_is_turned_away_with_200(live_app, app_ctx, cfg):
    cfg["TWILIO_WHATSAPP_FROM"] = ""
    for address in (WHATSAPP, "messenger:1234567890"):  # and a channel the line never has a sender for
        params = inbound_params(live_app.account_sid, address, "hello")
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
    assert db.session.scalar(select(Message)) is None
    assert get_redis().hget("tl:metrics:counters", "webhooks|inbound|channel_off") == "2"
