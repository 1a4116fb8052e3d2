"""Texters, their conversations and the messages in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow

WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"
# Open, but held out of the queue: the texter is blocked (textline/blocklist/). Adults see it; volunteers do not.
BLOCKED = "blocked"
INBOUND, OUTBOUND = "in", "out"

# Outbound delivery states in the order they can only move forward. "pending" and "submitting" are
# ours (stored / hand-off to Twilio in flight); the rest are Twilio's MessageStatus values.
DELIVERY_RANK = {
    "pending": 0, "submitting": 1, "accepted": 2, "scheduled": 2, "queued": 2, "sending": 3,
    "sent": 4, "delivered": 5, "undelivered": 5, "failed": 5, "refused": 5, "canceled": 5, "read": 6,
}
FINAL_FAILURES = {"failed", "undelivered", "refused", "canceled"}


class Texter(Base):
    """A person who texts in. Identified by an HMAC of the number; the number itself lives in TexterPhone."""

    __tablename__ = "texters"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    alias: Mapped[str] = mapped_column(String(40))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the number mapping was erased (retention or a request): the hash no longer matches anyone.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    phone: Mapped["TexterPhone | None"] = relationship(back_populates="texter", cascade="all, delete-orphan")


class SpoolErasure(Base):
    """A texter erased on request, remembered by their key (the HMAC of their number, as Texter.phone_hash
    was) for as long as retention keeps anything: texts of theirs that arrived before the erasure and
    still wait in a spool on any web host are dropped by the drain, never stored
    (textline/texting/spool_drain.py). Only the key and the time: no number, no alias."""

    __tablename__ = "spool_erasures"

    texter_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TexterPhone(Base):
    """The only copy of a texter's number: needed to text back, erased by retention or on request."""

    __tablename__ = "texter_phones"

    texter_id: Mapped[int] = mapped_column(ForeignKey("texters.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str] = mapped_column(String(32))

    texter: Mapped[Texter] = relationship(back_populates="phone")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # A texter has at most one open conversation; concurrent webhooks cannot open two.
        Index(
            "uq_conversations_open_per_texter", "texter_id", unique=True,
            sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'"),
        ),
        Index("ix_conversations_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    texter_id: Mapped[int] = mapped_column(ForeignKey("texters.id"))
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    # Queue priority 0..100, the highest risk score seen in the conversation.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    risk_level: Mapped[str] = mapped_column(String(10), default="none")
    risk_reasons: Mapped[list] = mapped_column(JSON, default=list)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it (re)entered the queue: the age that orders the queue.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its current wait began: its first text, a hand-back, a block ending. The wait alert counts from
    # here, each wait its own event; queued_at can be earlier (a handed-back texter keeps their place).
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    disposition: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    wrap_up_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    # sms | whatsapp: where the texter wrote from, and so where replies go (privacy.parse_address).
    channel: Mapped[str] = mapped_column(String(12), default="sms", server_default="sms")
    # ISO 639-1 code of the language the texter writes in ("en", "es"), detected from the first texts, never
    # from the number; None until known. It picks the automatic texts' language and who is offered it first.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # Set when retention (or an erasure request) removed the words; counts and times remain.
    content_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Safety. Since when the texter has waited for an answer from the volunteer holding the
    # conversation (None = answered): the no-reply escalation's clock.
    awaiting_reply_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An adult advisor joined (wrote to the texter, joined or took over): no automatic crisis text then.
    adult_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    adult_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The automatic 988/911 text went out (once per conversation).
    crisis_info_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    texter: Mapped[Texter] = relationship()
    volunteer = relationship("User", foreign_keys=[volunteer_id])
    adult = relationship("User", foreign_keys=[adult_id])
    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list["ConversationNote"]] = relationship(order_by="ConversationNote.id",
                                                           cascade="all, delete-orphan")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        # A re-sent console request is stored once; the same key elsewhere is another reply.
        UniqueConstraint("conversation_id", "author_id", "idempotency_key", name="uq_messages_reply_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    # texter | volunteer | supervisor | system
    author_kind: Mapped[str] = mapped_column(String(12))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # What an automatic text is for (welcome, crisis, keyword, opt_out_confirmation, ...); None = chat.
    kind: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # Null once retention has erased it.
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # How many characters of the texter's text could not be stored and were replaced (storable.py).
    replaced_chars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Twilio's MessageSid: unique, so a retried webhook is stored once.
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # Client-chosen key for outbound messages, unique per conversation and author (uq_messages_reply_key).
    idempotency_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    risk: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    media: Mapped[list["MessageMedia"]] = relationship(order_by="MessageMedia.position", back_populates="message",
                                                       cascade="all, delete-orphan")


# A media item's fetch (textline/media/fetch.py): pending -> fetching -> stored | too_large | failed.
MEDIA_PENDING, MEDIA_FETCHING, MEDIA_STORED, MEDIA_TOO_LARGE, MEDIA_FAILED = (
    "pending", "fetching", "stored", "too_large", "failed")


class MessageMedia(Base):
    """A picture or file that came with a texter's message: where Twilio keeps it (never shown to a
    browser), its type, and once fetched where the line keeps it (textline/media/storage.py)."""

    __tablename__ = "message_media"
    __table_args__ = (Index("ix_message_media_message", "message_id", "position"),
                      Index("ix_message_media_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)   # n of Twilio's MediaUrl<n>
    url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The fetch, moved on by one claim at a time (attempts is the claim's version).
    state: Mapped[str] = mapped_column(String(16), default=MEDIA_PENDING, server_default=MEDIA_PENDING)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)   # bytes (Twilio's Content-Length if not fetched)
    storage_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    preview_key: Mapped[str | None] = mapped_column(String(120), nullable=True)  # the blurred preview (images)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fetch_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_from_twilio_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Adults first: the first adult who looked at it (volunteers may wait for this, MEDIA_ADULT_FIRST).
    adult_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    adult_viewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    message: Mapped["Message"] = relationship(back_populates="media")


class DeliveryReceipt(Base):
    """Every Twilio status callback, kept even when it beats our own record of the MessageSid; each
    (SID, status) once, however often Twilio retries it."""

    __tablename__ = "delivery_receipts"
    __table_args__ = (Index("uq_delivery_receipts_sid_status", "twilio_sid", "status", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
