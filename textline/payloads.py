"""Everything a browser is sent about texters, conversations and messages is built here.

One place to keep the rule that a phone number (or anything derived from it but the alias)
never leaves the server.
"""
from __future__ import annotations

from datetime import datetime

from textline.models import Conversation, Message


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def message(msg: Message) -> dict:
    risk = msg.risk or {}
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "direction": msg.direction,
        "author": msg.author_kind,
        "kind": msg.kind,
        "body": msg.body,
        "status": msg.status,
        "error_code": msg.error_code,
        "created_at": _iso(msg.created_at),
        "risk": {k: risk[k] for k in ("score", "level", "reasons", "matches") if k in risk} or None,
    }


def message_status(msg: Message) -> dict:
    return {"id": msg.id, "conversation_id": msg.conversation_id, "status": msg.status,
            "error_code": msg.error_code}


def conversation(conv: Conversation) -> dict:
    return {
        "id": conv.id,
        "alias": conv.texter.alias,
        "status": conv.status,
        "priority": conv.priority,
        "risk_level": conv.risk_level,
        "risk_reasons": conv.risk_reasons or [],
        "volunteer_id": conv.volunteer_id,
        "volunteer_name": conv.volunteer.display_name if conv.volunteer else None,
        "opened_at": _iso(conv.opened_at),
        "queued_at": _iso(conv.queued_at),
        "claimed_at": _iso(conv.claimed_at),
        "last_inbound_at": _iso(conv.last_inbound_at),
        "closed_at": _iso(conv.closed_at),
        "training": conv.training,
        "opted_out": conv.texter.opted_out,
    }


def transcript(conv: Conversation) -> dict:
    return {"conversation": conversation(conv), "messages": [message(m) for m in conv.messages]}


def alert(alert_id: str, kind: str, level: str, text: str, raised_at: datetime,
          conv: Conversation | None = None, **details) -> dict:
    """An alert for supervisors. `details` are ids and codes only, never bodies or numbers."""
    return {
        "id": alert_id,
        "kind": kind,
        "level": level,
        "text": text,
        "raised_at": _iso(raised_at),
        "conversation_id": conv.id if conv else None,
        "alias": conv.texter.alias if conv else None,
        **{k: v for k, v in details.items() if isinstance(v, (int, float, str, bool, type(None)))},
    }
