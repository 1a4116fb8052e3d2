"""The webhook's side of conversation-level risk: read the texter's recent texts in the conversation
(only when the new text could combine with them) and apply conversation_risk()."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from textline.extensions import db
from textline.models import INBOUND, Message
from textline.safety.risk.conversation import EARLIER_MAX, WINDOW, EarlierText, conversation_risk, needs_context
from textline.safety.risk.scorer import packaged_lexicon


def risk_in_conversation(conversation_id: int, body: str, risk: dict, at: datetime,
                         before_id: int | None = None) -> dict:
    """The new text's assessment, read with the texter's texts of the last WINDOW in the conversation.
    before_id: the text is already stored (a shadow model re-reading it): only the texts before it."""
    lexicon = packaged_lexicon()
    if not needs_context(risk, body, lexicon):
        return risk  # most texts: no query
    query = (select(Message.body, Message.risk, Message.created_at)
             .where(Message.conversation_id == conversation_id, Message.direction == INBOUND,
                    Message.created_at >= at - WINDOW)
             .order_by(Message.id.desc()).limit(EARLIER_MAX))
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = db.session.execute(query).all()
    return conversation_risk(risk, body, at, [EarlierText(b, r, t) for b, r, t in rows], lexicon)
