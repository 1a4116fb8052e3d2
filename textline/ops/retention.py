"""Forgetting: retention of closed conversations, and a texter's export or erasure on request.

What is erased: message bodies, the words in risk reasons, wrap-up notes, private notes (whispers and
transfer handover notes, which retell what the texter said), and the phone-number
mapping (the number, and the hash that would recognise it again). What stays, for statistics:
rows, times, directions, delivery states, risk levels, dispositions — anonymous counts.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select

from textline.console import wrap_up
from textline.extensions import db
from textline.models import CLOSED, Conversation, Message, Texter, TexterPhone, utcnow
from textline.texting import conversations
from textline.texting.privacy import phone_hash


def _strip_risk(risk: dict | None) -> dict | None:
    """Keep the score and level; drop reasons and matches, which quote the texter's words."""
    if not risk:
        return risk
    return {k: v for k, v in risk.items() if k in ("score", "level", "categories")}


def erase_conversation(conv: Conversation, now: datetime) -> None:
    for msg in conv.messages:
        msg.body = None
        msg.media.clear()  # where a picture is kept is content too (the rows go: delete-orphan)
        msg.risk = _strip_risk(msg.risk)
    for note in conv.notes:
        note.body = None
    conv.wrap_up_note = None
    conv.risk_reasons = []
    conv.content_erased_at = now


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
    db.session.commit()
    return {"conversations_erased": len(old), "texters_unlinked": len(texters)}


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
        } for c in convs],
    }


def erase_texter(texter: Texter) -> int:
    """Erasure on request: close what is open, erase every conversation's words, forget the number."""
    now = utcnow()
    convs = db.session.scalars(select(Conversation).where(Conversation.texter_id == texter.id)).all()
    for conv in convs:
        if conv.status != CLOSED:
            conversations.close(conv, disposition=wrap_up.system("erased"))
        erase_conversation(conv, now)
    unlink_texter(texter, now)
    db.session.commit()
    return len(convs)


def counts() -> dict:
    """Anonymous totals that survive retention (used by tests and statistics)."""
    return {
        "conversations": db.session.scalar(select(func.count()).select_from(Conversation)),
        "messages": db.session.scalar(select(func.count()).select_from(Message)),
        "texters": db.session.scalar(select(func.count()).select_from(Texter)),
        "phone_numbers": db.session.scalar(select(func.count()).select_from(TexterPhone)),
    }
