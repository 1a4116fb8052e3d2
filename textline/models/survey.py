"""Answers to the post-conversation survey ("How helpful was this? Reply 1-5")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow
from textline.models.texting import Message


class SurveyResponse(Base):
    """One score per conversation (the unique key stops a second answer from counting twice).
    The score is a number, not the texter's words, so it outlives retention."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation = relationship("Conversation")
    message = relationship("Message")


# Finding "the survey this texter was sent in the last day" (and counting surveys for insights) looks
# messages up by kind and time; defined here so the survey's needs stay in the survey's module.
Index("ix_messages_kind_created", Message.kind, Message.created_at)
