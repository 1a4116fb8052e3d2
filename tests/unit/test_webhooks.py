"""POST /sms/inbound and /sms/status: Twilio's signature, idempotency, durable storage."""
from __future__ import annotations

import pytest
import redis
import requests
from sqlalchemy import func, select

from tests.support.servers import wait_until
from tests.support.state import make_user
from tests.support.texting import (
    ConsoleClient, fake_twilio_client, inbound_params, login, new_sid, post_signed, twilio_signature,
)
from textline.extensions import db
from textline.models import Conversation, Message, Texter, TexterPhone
from textline.redis_store import get_redis

TEXTER = "+15550104321"


def send(live_app, body="hi, is anyone there?", sid=None, number=TEXTER, **kwargs):
    params = inbound_params(live_app.account_sid, number, body, sid)
    return post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token, **kwargs), params


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_signed_webhook_is_stored_queued_and_answered_with_empty_twiml(live_app, app_ctx):
    response, params = send(live_app)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.text.strip() == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    msg = db.session.scalar(select(Message).where(Message.twilio_sid == params["MessageSid"]))
    assert msg.body == "hi, is anyone there?" and msg.direction == "in"
    assert msg.conversation.status == "waiting"
    assert get_redis().zscore("tl:queue", str(msg.conversation_id)) is not None


def test_a_text_sends_the_consoles_one_queue_row_never_the_whole_queue(live_app, app_ctx):
    make_user(db.session, "sam@example.org", on_shift=True)
    send(live_app, "hi, first one here", number="+15550104000")
    send(live_app)
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", "a-long-password"))
    try:
        first, mine = [c["id"] for c in sam.wait_for("hello")["queue"]]
        send(live_app, "still there?")
        row = sam.wait_for("queue_item")
        assert (row["id"], row["inbound_count"], row["status"]) == (mine, 2, "waiting")
        assert row["alias"].startswith("Texter ") and TEXTER[2:] not in str(row)
        assert "queue" not in [name for name, _ in sam.seen]
        # Higher risk moves it up: its row alone, with its new place, never the whole queue (issue 17).
        send(live_app, "i have the pills in my hand and i want to kill myself tonight")
        assert [c["id"] for c in sam.wait_for("queue_view", lambda q: q[0]["id"] == mine)] == [mine, first]
        moved = sam.wait_for("queue_delta")
        assert moved["put"]["id"] == mine and moved["put"]["risk_level"] == "high"
        # A new texter: their row alone, numbered after the last change, placed last (lowest priority, latest).
        send(live_app, "hello?", number="+15550104001")
        new = sam.wait_for("queue_delta", lambda d: d.get("put", {}).get("id") not in (first, mine, None))
        assert new["seq"] == moved["seq"] + 1
        assert [c["id"] for c in sam.wait_for("queue_view", lambda q: len(q) == 3)] == [mine, first, new["put"]["id"]]
        assert "queue" not in [name for name, _ in sam.seen]
    finally:
        sam.close()


def test_a_text_in_a_claimed_conversation_is_one_message_event_unless_more_changed(live_app, app_ctx):
    """The `message` event carries what every text changes (consoles derive last_inbound_at and the
    no-reply clock from it); a `conversation` event follows only when more changed, such as the risk."""
    make_user(db.session, "sam@example.org", on_shift=True)
    send(live_app)
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", "a-long-password"))
    try:
        conv_id = sam.wait_for("hello")["queue"][0]["id"]
        assert sam.call("claim", {"conversation_id": conv_id})["ok"]
        sam.wait_for("conversation", lambda c: c["id"] == conv_id and c["status"] == "active")
        claimed_at = len(sam.seen)
        send(live_app, "are you still there")
        sam.wait_for("message", lambda m: m["body"] == "are you still there")
        send(live_app, "i have the pills in my hand and i want to kill myself tonight")
        sam.wait_for("conversation", lambda c: c["id"] == conv_id and c["risk_level"] == "high")
        after_claim = [data for name, data in sam.seen[claimed_at:] if name == "conversation"]
        assert [c["risk_level"] for c in after_claim] == ["high"]
        assert after_claim[0]["awaiting_reply_since"] is not None
    finally:
        sam.close()


@pytest.mark.parametrize("tamper", ["forged", "unsigned", "other-url", "changed-body"])
def test_forged_or_unsigned_webhook_is_refused_and_nothing_is_stored(live_app, app_ctx, tamper):
    params = inbound_params(live_app.account_sid, TEXTER, "hello")
    url = live_app.base_url + "/sms/inbound"
    headers = {
        "forged": {"X-Twilio-Signature": twilio_signature("not-the-auth-token", url, params)},
        "unsigned": {},
        "other-url": {"X-Twilio-Signature": twilio_signature(live_app.auth_token, url + "x", params)},
        "changed-body": {"X-Twilio-Signature": twilio_signature(live_app.auth_token, url, params)},
    }[tamper]
    data = dict(params, Body="changed in transit") if tamper == "changed-body" else params
    response = requests.post(url, data=data, headers=headers, timeout=10)
    assert response.status_code == 403
    assert count(Message) == 0 and count(Texter) == 0
    assert get_redis().zcard("tl:queue") == 0


def test_retried_message_sid_is_stored_once_and_welcomed_once(live_app, app_ctx):
    sid = new_sid()
    first, _ = send(live_app, sid=sid)
    second, _ = send(live_app, sid=sid)
    assert first.status_code == second.status_code == 200
    assert count(Message, Message.direction == "in") == 1
    assert count(Conversation) == 1
    outbox = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token)
    sent = outbox.messages.list(to=TEXTER)
    assert len(sent) == 1
    assert "988" in sent[0].body and "911" in sent[0].body


def test_webhooks_share_one_redis_client_and_still_store_once_before_answering(live_app, app_ctx, monkeypatch):
    """get_redis() hands out one client per URL: building one per call cost ~0.1 ms of CPU, about three
    times per webhook (metrics, the Socket.IO emit, the escalation timer; bench/README.md, issue 17)."""
    send(live_app, body="the first text opens the conversation")
    built = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    sid = new_sid()
    first, _ = send(live_app, body="are you still there?", sid=sid)
    stored_when_answered = count(Message, Message.twilio_sid == sid)
    retried, _ = send(live_app, body="are you still there?", sid=sid)
    assert first.status_code == retried.status_code == 200
    assert stored_when_answered == 1 and count(Message, Message.twilio_sid == sid) == 1
    assert built == []
    assert get_redis() is get_redis()


def test_welcome_goes_to_each_new_conversation_but_not_to_follow_ups(live_app, app_ctx):
    send(live_app, "first")
    send(live_app, "second")
    outbox = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token)
    assert len(outbox.messages.list(to=TEXTER)) == 1
    conv = db.session.scalar(select(Conversation))
    assert [m.body for m in conv.messages if m.direction == "in"] == ["first", "second"]


# Not Body: a picture alone comes without one (tests/integration/test_twilio_fidelity.py).
@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_incomplete_webhook_gets_a_clear_400_and_stores_nothing(live_app, app_ctx, missing):
    params = inbound_params(live_app.account_sid, TEXTER, "hello")
    del params[missing]
    response = post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token)
    assert response.status_code == 400
    assert missing in response.text or "required" in response.text
    assert count(Message) == 0


def test_bad_from_number_is_refused(live_app, app_ctx):
    response, _ = send(live_app, number="not-a-number")
    assert response.status_code == 400
    assert count(Message) == 0


def test_phone_number_is_stored_once_and_texter_is_keyed_by_hmac(live_app, app_ctx):
    send(live_app, "one")
    texter = db.session.scalar(select(Texter))
    assert TEXTER not in texter.phone_hash and len(texter.phone_hash) == 64
    assert texter.alias.startswith("Texter ") and TEXTER[-4:] not in texter.alias
    assert [p.number for p in db.session.scalars(select(TexterPhone))] == [TEXTER]


def test_validation_uses_the_public_url_behind_a_proxy(live_app, app_ctx):
    """Twilio signs the URL it called (the proxy's), not the one the app sees."""
    public = "https://textline.example.org"
    live_app.app.config["PUBLIC_BASE_URL"] = public
    try:
        params = inbound_params(live_app.account_sid, TEXTER, "through the proxy")
        signature = twilio_signature(live_app.auth_token, public + "/sms/inbound", params)
        response = requests.post(live_app.base_url + "/sms/inbound", data=params,
                                 headers={"X-Twilio-Signature": signature}, timeout=10)
        direct = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, TEXTER, "x"),
                             live_app.auth_token)
    finally:
        live_app.app.config["PUBLIC_BASE_URL"] = live_app.base_url
    assert response.status_code == 200
    assert direct.status_code == 403  # signed for the internal URL: not what Twilio would sign


def test_status_callbacks_move_delivery_forward_only(live_app, app_ctx):
    send(live_app)
    welcome = wait_until(lambda: db.session.scalar(select(Message).where(
        Message.kind == "welcome", Message.status == "delivered")), what="welcome delivered")
    db.session.expire_all()
    # A late "sent" after "delivered" must not move it back.
    params = {"MessageSid": welcome.twilio_sid, "MessageStatus": "sent", "AccountSid": live_app.account_sid}
    assert post_signed(live_app.base_url, "/sms/status", params, live_app.auth_token).status_code == 204
    db.session.expire_all()
    assert db.session.get(Message, welcome.id).status == "delivered"


def test_forged_status_callback_is_refused(live_app, app_ctx):
    params = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    response = requests.post(live_app.base_url + "/sms/status", data=params,
                             headers={"X-Twilio-Signature": "AAAA"}, timeout=10)
    assert response.status_code == 403
