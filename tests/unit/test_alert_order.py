"""Open alerts in order of danger (textline/safety/danger.py): high risk first, then by age, on the
dashboard's snapshot and in every alert's `severity` (static/js/supervise.js sorts live ones by it)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.texting import console_opener, inbound_params, post_signed
from textline.extensions import db
from textline.models import Conversation, utcnow
from textline.ops.cli import create_user
from textline.safety import escalation

HIGH = "i have the pills in my hand and i want to kill myself tonight"
PASSWORD = "a-long-password"


@pytest.fixture
def consoles(live_app, app_ctx):
    create_user("dana@example.org", "Dana", "supervisor", PASSWORD)
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, number, body="hello?") -> Conversation:
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def alert(conv, reason, minutes_ago, episode="1"):
    esc = escalation.open_escalation(conv, reason, episode, now=utcnow() - timedelta(minutes=minutes_ago))
    db.session.commit()
    return esc.id


def test_a_new_high_risk_alert_comes_before_older_waits_and_ties_go_to_the_oldest(live_app, consoles):
    dana = consoles("dana")
    long_wait = alert(text(live_app, "+15550107001"), "wait", 10)
    wait = alert(text(live_app, "+15550107002"), "wait", 5)
    silence = alert(text(live_app, "+15550107003"), "no_reply", 4)
    asked = alert(text(live_app, "+15550107004"), "asked", 3)
    # Waited long, and then wrote something high-risk: the wait alert is as urgent as the risk one.
    risky = text(live_app, "+15550107005")
    risky_wait = alert(risky, "wait", 2)
    text(live_app, "+15550107005", HIGH)
    new_risk = text(live_app, "+15550107006", HIGH)  # the newest of all
    snap = dana.call("supervise_snapshot", {})
    assert snap["ok"]
    risk_alert = next(a["id"] for a in snap["alerts"] if a["conversation_id"] == new_risk.id)
    risky_risk = next(a["id"] for a in snap["alerts"] if a["conversation_id"] == risky.id and a["reason"] == "risk")
    order = [a["id"] for a in snap["alerts"]]
    assert order == [risky_wait, risky_risk, risk_alert, asked, silence, long_wait, wait]
    assert [a["severity"] for a in snap["alerts"]] == [0, 0, 0, 1, 2, 3, 3]
