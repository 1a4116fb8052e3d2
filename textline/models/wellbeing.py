"""Volunteer wellbeing records: the check-out a volunteer gives when a shift ends, and the debrief an
adult owes them after a low answer or a request to talk. Pauses and per-shift counts live in Redis
(textline/wellbeing/); these are the parts adults must still find tomorrow."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow


class ShiftCheckout(Base):
    """"How are you feeling" (1-5) and "would you like an adult to talk with you", at a shift's end."""

    __tablename__ = "shift_checkouts"
    __table_args__ = (Index("ix_shift_checkouts_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    feeling: Mapped[int] = mapped_column(Integer)
    wants_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    shift_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


class DebriefTask(Base):
    """A non-urgent task for an adult: talk with this volunteer. Open until an adult marks it done."""

    __tablename__ = "debrief_tasks"
    __table_args__ = (Index("ix_debrief_tasks_open", "done_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("shift_checkouts.id", ondelete="SET NULL"),
                                                    nullable=True)
    reason: Mapped[str] = mapped_column(String(20))  # low_feeling | asked_to_talk | both
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    volunteer = relationship("User", foreign_keys=[volunteer_id])
    owner = relationship("User", foreign_keys=[owner_id])
    checkout = relationship("ShiftCheckout")
