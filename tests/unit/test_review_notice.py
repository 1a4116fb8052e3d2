"""Risk that needs review (medium: a negated mention, or what the model reads like texts that needed an
adult) is told to the adults as a notice; nobody is paged. High risk is an escalation instead."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.support.state import make_user
from tests.support.texting import ConsoleClient, inbound_params, login, post_signed
from textline.extensions import db
from textline.models import Escalation


def _text(live_app, number, body):
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                live_app.auth_token)


def test_review_level_risk_is_a_notice_not_an_escalation(live_app, app_ctx):
    make_user(db.session, "dana@example.org", "supervisor")
    dana = ConsoleClient(live_app.base_url, login(live_app.base_url, "dana@example.org", "a-long-password"))
    try:
        dana.wait_for("hello")
        _text(live_app, "+15550106101", "my bro is on the bathroom floor and his lips look blue")
        notice = dana.wait_for("notice", lambda n: n["kind"] == "review")
        assert notice["level"] == "info" and "may need an adult" in notice["text"]
        assert db.session.scalar(select(func.count()).select_from(Escalation)) == 0
        # A second text in the same conversation that stays at review level is not told again.
        _text(live_app, "+15550106101", "he is breathing weird")
        _text(live_app, "+15550106102", "i want to kill myself tonight, i have the pills")
        alert = dana.wait_for("alert", lambda a: a["reason"] == "risk")
        assert [d["conversation_id"] for n, d in dana.seen if n == "notice" and d["kind"] == "review"] == \
            [notice["conversation_id"]]
        assert alert["conversation_id"] != notice["conversation_id"]
    finally:
        dana.close()
