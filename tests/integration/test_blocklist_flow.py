"""A blocked texter's high-risk text on the production shape (gunicorn+gevent web, a real Celery worker,
Redis, SQL, the fake Twilio over HTTP): the block holds their texts out of the queue, and safety still
beats it: an adult is alerted at once and the texter gets the crisis text, sent by the worker."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.servers import wait_until
from textline.models import BLOCKED, Conversation, Escalation, Message

pytestmark = pytest.mark.integration

TEXTER = "+15550107301"
HIGH = "i have the pills in my hand and i want to kill myself tonight"


def console(live, email):
    client = live.console(email)
    live.track(client)
    client.wait_for("hello")
    return client


def test_a_blocked_texter_s_high_risk_text_still_alerts_an_adult(live):
    live.user("dana@example.org", "supervisor")
    live.user("sam@example.org")
    dana, sam = console(live, "dana@example.org"), console(live, "sam@example.org")
    assert live.text_in(TEXTER, "you people are useless").status_code == 200
    queued = sam.wait_for("queue_view", lambda q: len(q) == 1)
    conv_id = queued[0]["id"]

    blocked = dana.call("block_texter", {"conversation_id": conv_id, "reason": "abusive to volunteers", "days": 7})
    assert blocked["ok"], blocked
    sam.wait_for("queue_view", lambda q: q == [])  # gone from the volunteers' queue

    assert live.text_in(TEXTER, "answer me").status_code == 200
    wait_until(lambda: any("can't continue" in m.body and "988" in m.body for m in live.sent_to(TEXTER)),
               timeout=20)

    assert live.text_in(TEXTER, HIGH).status_code == 200
    alert = dana.wait_for("alert", lambda a: a["conversation_id"] == conv_id, timeout=20)
    assert alert["reason"] == "risk" and alert["state"] == "open"
    wait_until(lambda: any(m.body.startswith("We want you to be safe") for m in live.sent_to(TEXTER)), timeout=20)

    with live.db() as s:
        conv = s.get(Conversation, conv_id)
        assert conv.status == BLOCKED and conv.risk_level == "high"
        assert s.scalar(select(Escalation).where(Escalation.conversation_id == conv_id)).reason == "risk"
        kinds = s.scalars(select(Message.kind).where(Message.conversation_id == conv_id,
                                                     Message.direction == "out").order_by(Message.id)).all()
        assert kinds == ["welcome", "blocked", "crisis"]  # one daily reply, then safety's own text
    assert sam.call("claim", {"conversation_id": conv_id})["code"] == "taken"  # still not a volunteer's to take
