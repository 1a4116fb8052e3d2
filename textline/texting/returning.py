"""Returning texters: what the line remembers of a texter's earlier conversations, for the volunteer who
claims a new one: how many, when, and their wrap-ups (outcome, topics, assessed risk, follow-up and the
wrap-up note). Never the earlier transcripts: adults open those from the dashboard.

Only conversations the line still remembers count: closed ones whose words retention has not erased
(content_erased_at). An erased texter has no history: erasure forgets their key, so if they text again
they are a new texter row (with the same alias, which comes from the key: privacy.alias_for).
RETURNING_TEXTER_HISTORY switches it off.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from textline.console import wrap_up
from textline.extensions import db
from textline.models import CLOSED, Conversation

SHOWN = 5  # the most recent earlier wrap-ups shown; the count says how many there are in all


def _remembered(conv: Conversation):
    return (Conversation.texter_id == conv.texter_id, Conversation.id != conv.id, Conversation.status == CLOSED,
            Conversation.content_erased_at.is_(None), Conversation.training == conv.training)


def _wrap_up(c: Conversation) -> dict:
    rec = wrap_up.read(c.disposition)
    return {"id": c.id, "opened_at": c.opened_at.isoformat(),
            "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            "outcome": wrap_up.label(rec.outcome) if rec.outcome else None,
            "topics": [wrap_up.label(t) for t in rec.topics],
            "risk": wrap_up.RISK_LEVELS.get(rec.risk, rec.risk) if rec.risk else None,
            "follow_up": wrap_up.label(rec.follow_up) if rec.follow_up else None,
            "note": c.wrap_up_note}


def history(conv: Conversation) -> dict | None:
    """The texter's earlier conversations, newest first; None when switched off or there are none."""
    if not current_app.config["RETURNING_TEXTER_HISTORY"]:
        return None
    count, first = db.session.execute(select(func.count(), func.min(Conversation.opened_at))
                                      .where(*_remembered(conv))).one()
    if not count:
        return None
    rows = db.session.scalars(select(Conversation).where(*_remembered(conv))
                              .order_by(Conversation.opened_at.desc(), Conversation.id.desc()).limit(SHOWN)).all()
    return {"count": count, "first_at": first.isoformat() if first else None,
            "conversations": [_wrap_up(c) for c in rows]}
