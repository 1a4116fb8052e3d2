"""Retention erases words and the number mapping of old closed conversations, keeps the counts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.support.pg_app import postgres_app
from tests.support.texting import inbound_params, post_signed
from textline.extensions import db
from textline.models import AuditEvent, Conversation, Message, MessageMedia, Texter, utcnow
from textline.ops import retention
from textline.ops.cli import create_user
from textline.texting import queue
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
    assert apply_retention.delay().get() == {"idle_closed": 0, "conversations_erased": 1, "texters_unlinked": 1,
                                             "report_decisions_deleted": 0, "emergency_records_deleted": 0}
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
    assert apply_retention.delay().get() == {"idle_closed": 0, "conversations_erased": 0, "texters_unlinked": 0,
                                             "report_decisions_deleted": 0, "emergency_records_deleted": 0}


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


def _back_date(conv, days_ago):
    """As if every message of it, and the conversation itself, were that many days old."""
    then = utcnow() - timedelta(days=days_ago)
    db.session.execute(update(Message).where(Message.conversation_id == conv.id).values(created_at=then))
    db.session.execute(update(Conversation).where(Conversation.id == conv.id).values(opened_at=then, queued_at=then))
    db.session.commit()
    return then


def test_a_waiting_conversation_left_for_200_days_is_closed_then_erased(live_app, app_ctx):
    conv = _conversation(live_app, OLD, "is anyone there, my mum hits me")
    then = _back_date(conv, 200)
    assert conv.id in queue.ordered_ids()
    assert apply_retention.delay().get() == {"idle_closed": 1, "conversations_erased": 1, "texters_unlinked": 1,
                                             "report_decisions_deleted": 0, "emergency_records_deleted": 0}
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.status == "closed" and conv.disposition == {"outcome": "idle", "by": "system"}
    assert abs((conv.closed_at - then).total_seconds()) < 1  # ended at its last message: retention counts from there
    assert all(m.body is None for m in conv.messages) and conv.texter.phone is None
    assert conv.id not in queue.ordered_ids()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.idle_close"))
    assert (event.actor_id, event.target_type, event.target_id) == (None, "conversation", conv.id)
    assert event.details["idle_days"] == live_app.app.config["IDLE_CLOSE_DAYS"]


def test_a_quiet_active_conversation_is_closed_and_kept_until_retention(live_app, app_ctx, cfg):
    cfg["IDLE_CLOSE_DAYS"] = 14
    sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    quiet = _conversation(live_app, OLD, "talk later")
    quiet.status, quiet.volunteer_id = "active", sam.id
    db.session.commit()
    _back_date(quiet, 20)
    lively = _conversation(live_app, RECENT, "still here")
    lively.opened_at = utcnow() - timedelta(days=300)  # opened long ago, but written in today
    db.session.commit()
    assert apply_retention.delay().get() == {"idle_closed": 1, "conversations_erased": 0, "texters_unlinked": 0,
                                             "report_decisions_deleted": 0, "emergency_records_deleted": 0}
    db.session.expire_all()
    quiet, lively = db.session.get(Conversation, quiet.id), db.session.get(Conversation, lively.id)
    assert quiet.status == "closed" and quiet.volunteer_id == sam.id and quiet.closed_by_id is None
    assert all(m.body for m in quiet.messages) and quiet.texter.phone is not None  # 20 days < 90: kept for now
    assert lively.status == "waiting"


def test_close_idle_command(live_app, app_ctx):
    conv = _conversation(live_app, OLD, "hello?")
    _back_date(conv, 3)
    runner = live_app.app.test_cli_runner()
    assert "closed 0 conversation(s)" in runner.invoke(args=["textline", "close-idle"]).output
    result = runner.invoke(args=["textline", "close-idle", "--days", "2"])
    assert result.exit_code == 0 and "closed 1 conversation(s) idle for 2 days" in result.output
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == "closed"


def test_idle_conversations_are_found_and_closed_once_on_postgres(tmp_path):
    """The dialect-sensitive part (the last message per conversation, the conditional close) on PostgreSQL."""
    with postgres_app(tmp_path) as app, app.app_context():
        now = utcnow()
        quiet, empty, lively = (Conversation(texter=Texter(phone_hash=f"h{i}", alias=f"T{i}"), status=status,
                                             opened_at=now - timedelta(days=30))
                                for i, status in enumerate(("active", "waiting", "waiting")))
        db.session.add_all([quiet, empty, lively])
        db.session.flush()
        for conv, days_ago in ((quiet, 20), (lively, 20), (lively, 1)):
            db.session.add(Message(conversation_id=conv.id, direction="in", author_kind="texter", body="hi",
                                   status="received", created_at=now - timedelta(days=days_ago)))
        db.session.commit()
        cutoff = now - timedelta(days=14)
        found = {cid: (status, last) for cid, status, last in retention.idle_conversations(cutoff)}
        assert set(found) == {quiet.id, empty.id}
        assert abs((found[quiet.id][1] - (now - timedelta(days=20))).total_seconds()) < 1
        assert retention.close_if_still_idle(quiet.id, "active", found[quiet.id][1], cutoff, 14)
        assert not retention.close_if_still_idle(quiet.id, "active", found[quiet.id][1], cutoff, 14)  # once
        db.session.add(Message(conversation_id=empty.id, direction="in", author_kind="texter", body="back",
                               status="received", created_at=now))
        db.session.commit()  # a text arrived after the select: it stays open
        assert not retention.close_if_still_idle(empty.id, "waiting", found[empty.id][1], cutoff, 14)
        db.session.expire_all()
        assert [c.status for c in (db.session.get(Conversation, i) for i in (quiet.id, empty.id, lively.id))] == \
            ["closed", "waiting", "waiting"]
        assert db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "conversation.idle_close")).all() \
            == [quiet.id]


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
