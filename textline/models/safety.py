"""Escalations to the adult advisors, the pages that go to their phones, and supervisors' private notes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow

# Why an adult is pulled in: high risk, a long wait in the queue, a volunteer who has not answered,
# a volunteer who pressed "Ask an adult", or nobody on shift reads the texter's language.
REASONS = ("risk", "wait", "no_reply", "asked", "no_speaker")
# Kinds of private note: an adult's whisper, or a colleague's handover note on a transfer.
WHISPER, TRANSFER_NOTE = "whisper", "transfer"


class Escalation(Base):
    """One event that needs an adult. (conversation, reason, episode) is unique, so however many sweeps or
    web processes notice the same event, it is recorded, alerted and paged once."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("conversation_id", "reason", "episode"),
        Index("ix_escalations_paging", "resolved_at", "acknowledged_at", "next_page_at"),
        Index("ix_escalations_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(12))
    # What makes this event distinct within its conversation and reason: "1" for risk (once per
    # conversation), the queue time for a wait, the start of the unanswered stretch for no_reply, a
    # running number for asks.
    episode: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # who asked
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Paging: when the next advisor's phone is texted (None = no more pages), and how many went out;
    # pages_sent also says where on the rota the next page goes.
    next_page_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pages_sent: Mapped[int] = mapped_column(Integer, default=0)

    conversation = relationship("Conversation")
    opened_by = relationship("User", foreign_keys=[opened_by_id])
    acknowledged_by = relationship("User", foreign_keys=[acknowledged_by_id])
    pages: Mapped[list["Page"]] = relationship(back_populates="escalation", order_by="Page.seq")

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"


class Page(Base):
    """An SMS to an advisor's pager phone. Sent by the same exactly-once machinery as texts to texters
    (textline/texting/delivery.py), so it carries the same delivery columns."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("escalation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # 0 = first page of this escalation
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    escalation: Mapped[Escalation] = relationship(back_populates="pages")
    user = relationship("User")


class ConversationNote(Base):
    """A private note in a conversation, never an SMS: it has no delivery columns, so nothing can ever
    send it to the texter. Either a supervisor's note ("whisper") to the volunteer, or the handover note
    a colleague writes when transferring the conversation to another volunteer (textline/console/transfer.py)."""

    __tablename__ = "conversation_notes"
    __table_args__ = (
        Index("ix_conversation_notes_conversation", "conversation_id", "id"),
        UniqueConstraint("conversation_id", "author_id", "idempotency_key", name="uq_conversation_notes_note_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)  # None once retention erased it
    # Client-chosen key, unique per conversation and author: a re-sent note is stored once.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(12), default=WHISPER, server_default=WHISPER)
    # A transfer note's new volunteer (who it was written for); None for whispers.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    author = relationship("User", foreign_keys=[author_id])
    recipient = relationship("User", foreign_keys=[recipient_id])
