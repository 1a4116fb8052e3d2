"""People who use the console: teen volunteers, adult supervisors (advisors), admins."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from textline.models.base import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    VOLUNTEER = "volunteer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.VOLUNTEER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    capacity: Mapped[int] = mapped_column(Integer, default=2)
    # Languages this person answers in, ISO 639-1 codes separated by spaces ("en es"): Spanish texters
    # are offered first to the volunteers who read Spanish.
    languages: Mapped[str] = mapped_column(String(32), default="en", server_default="en")
    # Only adults on the paging rota have a phone here; never shown to volunteers.
    pager_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Part of the session id: bumping it signs the account out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False)
    shift_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR.value, Role.ADMIN.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.active)


class UserSession(Base):
    """One sign-in, kept on the server so that signing out or a timeout ends it for good: the browser's
    cookie carries only a random token, stored here as its SHA-256."""
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
