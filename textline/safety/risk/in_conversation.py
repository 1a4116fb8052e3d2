"""The webhook's side of conversation-level risk: read the texter's recent texts in the conversation
(only when the new text could combine with them) and apply conversation_risk()."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from textline.extensions import db
from textline.models import INBOUND, Message
from textline.safety.risk.conversation import EARLIER_MAX, WINDOW, EarlierText, conversation_risk, needs_context
from textline.safety.risk.scorer import packaged_lexicon


def risk_in_conversation(conversation_id: int, body: str, risk: dict, at: datetime) -> dict:
    """The new text's assessment, read with the texter's texts of the last WINDOW in the conversation."""
    lexicon = packaged_lexicon()
    if not needs_context(risk, body, lexicon):
        return risk  # most texts: no query
    rows = db.session.execute(
        select(Message.body, Message.risk, Message.created_at)
        .where(Message.conversation_id == conversation_id, Message.direction == INBOUND,
               Message.created_at >= at - WINDOW)
        .order_by(Message.id.desc()).limit(EARLIER_MAX)).all()
    return conversation_risk(risk, body, at, [EarlierText(b, r, t) for b, r, t in rows], lexicon)
