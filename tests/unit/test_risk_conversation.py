"""Conversation-level risk (textline/safety/risk/conversation.py): a goodbye or the means after distress
earlier in the same conversation is high even when neither text alone is; the reason names both.

The rule is tested on the production scorer's own assessments; the last tests go through signed
webhooks, real SQL and the escalation that follows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.support.texting import inbound_params, new_sid, post_signed
from textline.extensions import db
from textline.models import Conversation, Escalation, Message
from textline.safety.risk import load_lexicon, score_text
from textline.safety.risk.conversation import WINDOW, EarlierText, conversation_risk
from textline.texting.inbound import receive_inbound

T0 = datetime(2026, 3, 1, 22, 0, tzinfo=timezone.utc)
DISTRESS = "i feel like nobody cares and i just want it all to stop"
MEANS = "i have the pills"


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def read(lexicon, text, at, *earlier):
    """`text` at time `at`, after (body, time) pairs."""
    return conversation_risk(score_text(text).to_dict(), text, at,
                             [EarlierText(b, score_text(b).to_dict() if b else None, t) for b, t in earlier], lexicon)


def test_neither_text_alone_is_high():
    assert score_text(DISTRESS).level == "medium"
    assert score_text(MEANS).level not in ("medium", "high")
    assert score_text("goodbye").level not in ("medium", "high")


def test_the_means_after_distress_is_high_and_the_reason_names_both(lexicon):
    risk = read(lexicon, MEANS, T0 + timedelta(minutes=3), (DISTRESS, T0))
    assert risk["level"] == "high" and risk["score"] >= lexicon.thresholds["high"]
    assert risk["reasons"][-1] == 'with an earlier text: "nobody cares" + "pills", 3 minutes apart'
    assert risk["matches"] == score_text(MEANS).to_dict()["matches"]  # the highlights stay the text's own


def test_a_goodbye_after_the_means_is_high(lexicon):
    risk = read(lexicon, "goodbye", T0 + timedelta(minutes=3), (MEANS, T0))
    assert risk["level"] == "high"
    assert risk["reasons"][-1] == 'with an earlier text: "pills" + "goodbye", 3 minutes apart'


def test_distress_after_an_earlier_goodbye_sign_is_high(lexicon):
    risk = read(lexicon, DISTRESS, T0 + timedelta(seconds=20), ("gave my guitar to my cousin. i wont need it", T0))
    assert risk["level"] == "high"
    assert risk["reasons"][-1].endswith("under a minute apart")


def test_the_nearest_earlier_text_is_named(lexicon):
    risk = read(lexicon, MEANS, T0 + timedelta(minutes=30),
                ("everything hurts and i hate myself", T0), (DISTRESS, T0 + timedelta(minutes=28)))
    assert risk["reasons"][-1] == 'with an earlier text: "nobody cares" + "pills", 2 minutes apart'


@pytest.mark.parametrize("earlier", [
    "how was ur day",                                  # no distress
    "im not going to kill myself, just stressed",      # negated: no live distress
    "i used to want to die back in 7th grade",         # past
])
def test_no_live_distress_earlier_changes_nothing(lexicon, earlier):
    before = score_text(MEANS).to_dict()
    assert read(lexicon, MEANS, T0 + timedelta(minutes=3), (earlier, T0)) == before


def test_too_long_ago_changes_nothing(lexicon):
    risk = read(lexicon, MEANS, T0 + WINDOW + timedelta(minutes=1), (DISTRESS, T0))
    assert risk["level"] != "high"


def test_an_ordinary_sign_off_after_distress_is_not_a_goodbye(lexicon):
    for text in ("ok thanks bye", "thank you for listening, bye", "gtg bye"):
        assert read(lexicon, text, T0 + timedelta(minutes=20), (DISTRESS, T0))["level"] != "high", text


def test_an_erased_earlier_text_is_not_read(lexicon):
    erased = EarlierText(None, None, T0)
    risk = conversation_risk(score_text(MEANS).to_dict(), MEANS, T0 + timedelta(minutes=3), [erased], lexicon)
    assert risk["level"] != "high"


def test_a_high_text_is_returned_as_it_is(lexicon):
    high = score_text("i have the pills in my hand and i want to kill myself tonight").to_dict()
    assert conversation_risk(high, "x", T0, [EarlierText(DISTRESS, score_text(DISTRESS).to_dict(), T0)], lexicon) is high


# ---- through the webhook -------------------------------------------------------------------------

TEXTER = "+15550106666"


def _text(live_app, body):
    r = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, TEXTER, body),
                    live_app.auth_token)
    assert r.status_code == 200, r.text
    db.session.expire_all()


def test_webhook_raises_the_conversation_and_pages_an_adult(live_app, app_ctx):
    _text(live_app, DISTRESS)
    conv = db.session.scalar(select(Conversation))
    assert conv.risk_level == "medium" and db.session.scalar(select(func.count(Escalation.id))) == 0
    _text(live_app, MEANS)
    conv = db.session.scalar(select(Conversation))
    last = db.session.scalar(select(Message).where(Message.direction == "in").order_by(Message.id.desc()))
    assert last.body == MEANS and last.risk["level"] == "high"
    assert last.risk["reasons"][-1] == 'with an earlier text: "nobody cares" + "pills", under a minute apart'
    assert conv.risk_level == "high"
    assert db.session.scalar(select(func.count(Escalation.id))) == 1


def test_webhook_reads_only_the_same_conversation(live_app, app_ctx):
    _text(live_app, MEANS)  # opens the conversation: nothing earlier
    conv = db.session.scalar(select(Conversation))
    assert conv.risk_level != "high" and db.session.scalar(select(func.count(Escalation.id))) == 0


# ---- the same read on PostgreSQL -------------------------------------------------------------------

def test_postgres_reads_the_earlier_text_in_the_window(pg_app):
    with pg_app.app_context():
        first = receive_inbound(TEXTER, DISTRESS, new_sid())
        assert first.message.risk["level"] == "medium"
        second = receive_inbound(TEXTER, MEANS, new_sid())
        assert second.conversation.id == first.conversation.id
        assert second.message.risk["level"] == "high" and second.conversation.risk_level == "high"
        assert second.message.risk["reasons"][-1].startswith('with an earlier text: "nobody cares" + "pills"')
        assert len(second.escalations) == 1
        db.session.remove()
