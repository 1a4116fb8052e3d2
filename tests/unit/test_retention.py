"""Retention erases words and the number mapping of old closed conversations, keeps the counts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.texting import inbound_params, post_signed
from textline.extensions import db
from textline.models import Conversation, Message, MessageMedia, Texter, utcnow
from textline.ops import retention
from workers.retention import apply_retention

OLD, RECENT = "+15550107001", "+15550107002"


def _conversation(live_app, number, body, closed_days_ago=None):
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                live_app.auth_token)
    conv = db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))
    if closed_days_ago is not None:
        conv.status, conv.closed_at = "closed", utcnow() - timedelta(days=closed_days_ago)
        conv.wrap_up_note = "talked about her mum"
    db.session.commit()
    return conv


def test_retention_erases_old_closed_conversations_and_keeps_counts(live_app, app_ctx):
    old = _conversation(live_app, OLD, "i want to kms, my mum hits me", closed_days_ago=120)
    recent = _conversation(live_app, RECENT, "recent closed one", closed_days_ago=10)
    before = retention.counts()
    assert apply_retention.delay().get() == {"conversations_erased": 1, "texters_unlinked": 1}
    after = retention.counts()
    assert {k: after[k] for k in ("conversations", "messages", "texters")} == \
        {k: before[k] for k in ("conversations", "messages", "texters")}
    assert after["phone_numbers"] == before["phone_numbers"] - 1
    db.session.expire_all()
    old = db.session.get(Conversation, old.id)
    assert all(m.body is None for m in old.messages)
    assert old.wrap_up_note is None and old.risk_reasons == [] and old.content_erased_at
    inbound = next(m for m in old.messages if m.direction == "in")
    assert inbound.risk["level"] and "reasons" not in inbound.risk and "matches" not in inbound.risk
    assert old.texter.phone is None and old.texter.phone_hash.startswith("erased:")
    recent = db.session.get(Conversation, recent.id)
    assert all(m.body for m in recent.messages) and recent.texter.phone is not None
    # Idempotent: a second run finds nothing more to do.
    assert apply_retention.delay().get() == {"conversations_erased": 0, "texters_unlinked": 0}


def test_forgotten_number_starts_afresh(live_app, app_ctx):
    _conversation(live_app, OLD, "long ago", closed_days_ago=200)
    apply_retention.delay().get()
    _conversation(live_app, OLD, "hello again")
    texters = db.session.scalars(select(Texter).order_by(Texter.id)).all()
    assert len(texters) == 2 and texters[0].phone is None and texters[1].phone.number == OLD


def test_open_or_recent_conversations_are_untouched(live_app, app_ctx):
    conv = _conversation(live_app, OLD, "still talking")  # open, however old
    conv.opened_at = utcnow() - timedelta(days=400)
    db.session.commit()
    assert retention.apply_retention(90) == {"conversations_erased": 0, "texters_unlinked": 0}
    assert db.session.scalar(select(Message.body).where(Message.direction == "in")) == "still talking"


def test_retention_erases_what_came_with_old_texts(live_app, app_ctx):
    """A picture's address is content like the words: it goes with them (the row, not just its URL)."""
    params = {**inbound_params(live_app.account_sid, OLD, "look"), "NumMedia": "1",
              "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
              "MediaContentType0": "image/jpeg"}
    assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
    conv = db.session.scalar(select(Conversation))
    conv.status, conv.closed_at = "closed", utcnow() - timedelta(days=120)
    db.session.commit()
    assert len(db.session.scalars(select(MessageMedia)).all()) == 1
    apply_retention.delay().get()
    db.session.expire_all()
    assert db.session.scalars(select(MessageMedia)).all() == []
