"""Forgetting: retention of closed conversations, and a texter's export or erasure on request.

A conversation nobody writes in any more is closed by the server after IDLE_CLOSE_DAYS, as of its last
message, so retention reaches it like any other (an open conversation is never erased).

What is erased: message bodies, pictures and files texters sent (the files and their rows: textline/media/),
the words in risk reasons, wrap-up notes, private notes (whispers and
transfer handover notes, which retell what the texter said), adults' risk labels (textline/triage/labels.py:
they are about the words; the wrap-up's assessed risk stays in the disposition but no longer counts as a
label), and the phone-number
mapping (the number, and the hash that would recognise it again). What stays, for statistics:
rows, times, directions, delivery states, risk levels, dispositions — anonymous counts.
Duty records (report decisions, emergency records: textline/duty/records.py) follow their own, longer
REPORT_RETENTION_DAYS and legal holds, and are exported and erased with the texter's conversations.
The spool (textline/texting/spool.py) is erased as it is drained; what it set aside as unstorable is
erased after the same retention period, and with a texter's erasure. A texter's erasure also deletes
what of theirs still waits in this host's spool, and leaves a tombstone that every host's drain honours
(the rule: textline/texting/spool_drain.py); tombstones go after the retention period.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update

from textline.accounts import audit
from textline.blocklist import blocks
from textline.console import wrap_up
from textline.duty import records as duty_records
from textline.extensions import db
from textline.media import storage as media_storage
from textline.models import CLOSED, WAITING, Conversation, Message, Texter, TexterPhone, utcnow
from textline.texting import conversations, spool, spool_drain, twilio_gateway
from textline.texting.privacy import phone_hash
from textline.triage import labels as risk_labels

log = logging.getLogger(__name__)


def _strip_risk(risk: dict | None) -> dict | None:
    """Keep the score and level; drop reasons and matches, which quote the texter's words."""
    if not risk:
        return risk
    return {k: v for k, v in risk.items() if k in ("score", "level", "categories")}


def erase_conversation(conv: Conversation, now: datetime) -> None:
    for msg in conv.messages:
        msg.body = None
        for item in msg.media:
            _forget_media(item)
        msg.media.clear()  # where a picture is kept is content too (the rows go: delete-orphan)
        msg.risk = _strip_risk(msg.risk)
    for note in conv.notes:
        note.body = None
    conv.wrap_up_note = None
    conv.risk_reasons = []
    conv.content_erased_at = now
    risk_labels.forget([conv.id])  # adults' labels are about these words (textline/triage/labels.py)


def _forget_media(item) -> None:
    """The files go from the line's storage; one not yet fetched is deleted at Twilio (best effort: if
    Twilio cannot be reached now, its own media retention applies)."""
    media_storage.remove_files(item)
    if item.removed_from_twilio_at is None:
        try:
            twilio_gateway.delete_media(item.url)
        except Exception as exc:
            log.warning("could not delete media %s at Twilio while erasing: %s", item.id, exc.__class__.__name__)


def unlink_texter(texter: Texter, now: datetime) -> None:
    """Forget the number: delete it, and replace the hash so the same number becomes a new texter."""
    texter.phone = None
    texter.phone_hash = "erased:" + secrets.token_hex(24)
    texter.erased_at = now


def apply_retention(days: int, now: datetime | None = None) -> dict:
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    old = db.session.scalars(select(Conversation).where(
        Conversation.status == CLOSED, Conversation.closed_at < cutoff,
        Conversation.content_erased_at.is_(None))).all()
    for conv in old:
        erase_conversation(conv, now)
    # A texter is forgotten once every conversation they had is closed and past the cutoff.
    recent = exists().where(Conversation.texter_id == Texter.id,
                            (Conversation.status != CLOSED) | (Conversation.closed_at >= cutoff))
    texters = db.session.scalars(select(Texter).where(Texter.erased_at.is_(None), ~recent,
                                                      exists().where(Conversation.texter_id == Texter.id))).all()
    for texter in texters:
        unlink_texter(texter, now)
    spool_drain.forget_erasures_before(cutoff)
    db.session.commit()
    spool.erase_older_than(cutoff)
    return {"conversations_erased": len(old), "texters_unlinked": len(texters)}


def close_idle(days: int, now: datetime | None = None) -> int:
    """Close every open conversation with no message for `days`: a system outcome, an audit line, and
    closed_at = its last message (when it really ended). Returns how many were closed."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    closed = 0
    for conv_id, status, last_at in idle_conversations(cutoff):
        if close_if_still_idle(conv_id, status, last_at, cutoff, days):
            closed += 1
            conv = db.session.get(Conversation, conv_id)
            db.session.refresh(conv)
            conversations.after_close(conv, was_waiting=status == WAITING)
    return closed


def idle_conversations(cutoff: datetime) -> list:
    """(id, status, last activity) of open conversations with no message since `cutoff`."""
    last = select(func.max(Message.created_at)).where(Message.conversation_id == Conversation.id).scalar_subquery()
    last_activity = func.coalesce(last, Conversation.opened_at)
    return db.session.execute(select(Conversation.id, Conversation.status, last_activity)
                              .where(Conversation.status != CLOSED, last_activity < cutoff)).all()


def close_if_still_idle(conv_id: int, status: str, last_at: datetime, cutoff: datetime, days: int) -> bool:
    """Close it in SQL (committed, with its audit line) unless it changed or a text arrived meanwhile."""
    newer = exists().where(Message.conversation_id == conv_id, Message.created_at >= cutoff)
    done = db.session.execute(update(Conversation)
                              .where(Conversation.id == conv_id, Conversation.status == status, ~newer)
                              .values(status=CLOSED, closed_at=last_at, closed_by_id=None,
                                      disposition=wrap_up.system("idle"), awaiting_reply_since=None)).rowcount
    if done:
        audit.record("conversation.idle_close", None, "conversation", conv_id, commit=False, idle_days=days,
                     last_activity=last_at.isoformat())
    db.session.commit()
    return bool(done)


def find_texter(number: str, key: str) -> Texter | None:
    """An admin looks someone up by the number they gave: hash it the same way and compare."""
    return db.session.scalar(select(Texter).where(Texter.phone_hash == phone_hash(number, key)))


def export_texter(texter: Texter) -> dict:
    convs = db.session.scalars(select(Conversation).where(Conversation.texter_id == texter.id)
                               .order_by(Conversation.id)).all()
    return {
        "alias": texter.alias,
        "first_seen_at": texter.first_seen_at.isoformat(),
        "opted_out": texter.opted_out,
        "conversations": [{
            "id": c.id, "opened_at": c.opened_at.isoformat(), "status": c.status,
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "messages": [{"at": m.created_at.isoformat(), "from": "texter" if m.direction == "in" else m.author_kind,
                          "body": m.body, "status": m.status} for m in c.messages],
            **duty_records.export_for(c.id),
        } for c in convs],
    }


def erase_texter(texter: Texter) -> tuple[int, int]:
    """Erasure on request: close what is open, erase every conversation's words and the duty records not on
    legal hold, forget the number; and whatever of theirs still waits in a spool is never stored
    (spool_drain's tombstone, while no drain runs). Returns (conversations, duty records kept on legal hold)."""
    key = texter.phone_hash
    with spool_drain.drains_paused():
        now = utcnow()
        convs = db.session.scalars(select(Conversation).where(Conversation.texter_id == texter.id)).all()
        for conv in convs:
            if conv.status != CLOSED:
                conversations.close(conv, disposition=wrap_up.system("erased"))
            erase_conversation(conv, now)
        held = duty_records.erase_for([c.id for c in convs])["duty_records_held"]
        blocks.lift_for_erased(texter)  # a block names the texter: forgotten with them
        spool_drain.remember_erasure(key, now)
        unlink_texter(texter, now)
        db.session.commit()
        spool_drain.forget_spooled(key, now)
    return len(convs), held


def erase_unstored(number: str, key: str) -> int:
    """Erasure on request of someone SQL does not know yet: texts of theirs may still wait in a spool
    (the database was down when they texted). The same tombstone as erase_texter; returns how many
    entries went from this host's spool (other hosts' drains drop theirs)."""
    texter_key = phone_hash(number, key)
    with spool_drain.drains_paused():
        now = utcnow()
        spool_drain.remember_erasure(texter_key, now)
        db.session.commit()
        return spool_drain.forget_spooled(texter_key, now)


def counts() -> dict:
    """Anonymous totals that survive retention (used by tests and statistics)."""
    return {
        "conversations": db.session.scalar(select(func.count()).select_from(Conversation)),
        "messages": db.session.scalar(select(func.count()).select_from(Message)),
        "texters": db.session.scalar(select(func.count()).select_from(Texter)),
        "phone_numbers": db.session.scalar(select(func.count()).select_from(TexterPhone)),
    }
