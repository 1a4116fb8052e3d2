"""What adults' browsers are sent about duty records (never a phone number; the texter by alias)."""
from __future__ import annotations

from datetime import datetime

from textline.models import ReportDecision


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def report(r: ReportDecision) -> dict:
    return {"id": r.id, "conversation_id": r.conversation_id, "alias": r.conversation.texter.alias,
            "trigger": r.trigger, "owed_at": _iso(r.owed_at), "decision": r.decision,
            "decided_at": _iso(r.decided_at)}
