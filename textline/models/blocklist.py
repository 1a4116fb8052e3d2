"""Blocks: an adult stops a texter's texts reaching the queue for a while (textline/blocklist/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from textline.models.base import Base, UTCDateTime, utcnow


class TexterBlock(Base):
    """One block of one texter, by their key (the texter row), never their number. A block is in force
    from created_at until expires_at, unless lifted first; a texter has at most one unlifted block (the
    partial unique index), so two adults pressing "Block" at once make one."""

    __tablename__ = "texter_blocks"
    __table_args__ = (
        Index("uq_texter_blocks_unlifted", "texter_id", unique=True,
              sqlite_where=text("lifted_at IS NULL"), postgresql_where=text("lifted_at IS NULL")),
        Index("ix_texter_blocks_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    texter_id: Mapped[int] = mapped_column(ForeignKey("texters.id", ondelete="CASCADE"))
    # The conversation it was made from (for the review page), if any.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The last automatic reply a blocked text got: at most one a day (a conditional UPDATE claims it).
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    texter = relationship("Texter")
    created_by = relationship("User", foreign_keys=[created_by_id])
    lifted_by = relationship("User", foreign_keys=[lifted_by_id])

    def in_force(self, now: datetime) -> bool:
        return self.lifted_at is None and self.expires_at > now

    @classmethod
    def in_force_at(cls, now: datetime):
        """The same rule as in_force, as SQL (blocks.in_force, and the inbound path's one look-up)."""
        return and_(cls.lifted_at.is_(None), cls.expires_at > now)
