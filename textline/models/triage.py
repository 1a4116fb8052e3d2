"""Adults' labels of the live risk scorer's work (textline/triage/): "needed an adult now" or "false alarm",
on one texter's message or on a whole conversation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow

NEEDED, FALSE_ALARM = "needed", "false_alarm"
VERDICTS = (NEEDED, FALSE_ALARM)


class RiskLabel(Base):
    """The current label of one target: a message (message_id set) or its whole conversation (message_id
    None). One row per target (the two partial unique indexes), whoever set it last; every change is an
    audit event, which is the history. No words: retention and erasure delete the row with the words of
    the conversation it points at (textline/ops/retention.py)."""

    __tablename__ = "risk_labels"
    __table_args__ = (
        Index("uq_risk_labels_message", "message_id", unique=True,
              sqlite_where=text("message_id IS NOT NULL"), postgresql_where=text("message_id IS NOT NULL")),
        Index("uq_risk_labels_conversation", "conversation_id", unique=True,
              sqlite_where=text("message_id IS NULL"), postgresql_where=text("message_id IS NULL")),
        Index("ix_risk_labels_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), nullable=True)
    verdict: Mapped[str] = mapped_column(String(12))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    by = relationship("User")
