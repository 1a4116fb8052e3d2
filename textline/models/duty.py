"""The adults' duty of care records: a report decision owed when a child may be being harmed, and a record of
each time an adult contacted the emergency services. Visible to adults only (textline/duty/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow

# What an adult decided about a report to the authorities.
REPORTED, NOT_REQUIRED, CONSULTED = "reported", "not_required", "consulted"
DECISIONS = (REPORTED, NOT_REQUIRED, CONSULTED)
# Who a report went to.
REPORTED_TO = ("child_protective_services", "police", "online_exploitation_platform", "other")
# Why a decision came to be owed: the risk lexicon saw abuse/violence, or an adult marked the conversation.
TRIGGERS = ("risk", "marked")


class ReportDecision(Base):
    """One per conversation: owed from owed_at until an adult records a decision (decided_at). A decision can
    be corrected later (every change is in the audit log). Free text here is the adult's, not the texter's."""

    __tablename__ = "report_decisions"
    __table_args__ = (Index("ix_report_decisions_open", "decided_at", "owed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    trigger: Mapped[str] = mapped_column(String(12))
    owed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # None = the lexicon
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reported_to: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reported_to_other: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    not_required_why: Mapped[str | None] = mapped_column(Text, nullable=True)
    consulted_with: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # An admin's legal hold: kept past REPORT_RETENTION_DAYS and through a texter's erasure request.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)

    conversation = relationship("Conversation")
    marked_by = relationship("User", foreign_keys=[marked_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class EmergencyRecord(Base):
    """An adult contacted the emergency services about a conversation (an "active rescue")."""

    __tablename__ = "emergency_records"
    __table_args__ = (Index("ix_emergency_records_conversation", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    service: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)

    conversation = relationship("Conversation")
    recorded_by = relationship("User")
