"""Accounts and their rules: who may have one, roles, capacity, pager phones, deactivation. The admin
pages (admin.py) call these and show the refusals; every change is in the audit log."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select

from textline.accounts import audit
from textline.accounts.auth import end_all_sessions
from textline.accounts.passwords import hash_password
from textline.extensions import db
from textline.models import Role, User
from textline.texting import language
from textline.texting.privacy import normalise_number

ROLES = [r.value for r in Role]


class AccountError(ValueError):
    """A refused change, with a message fit to show the admin."""


def _unusable_password() -> str:
    """Accounts start with a random password nobody knows; the invite link sets a real one."""
    return hash_password(secrets.token_urlsafe(32))


def _whole_number(name: str, raw, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise AccountError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise AccountError(f"{name} must be between {low} and {high}")
    return value


def _pager(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    try:
        return normalise_number(raw) if raw else None
    except ValueError as exc:
        raise AccountError(str(exc)) from None


def _languages(raw: list[str]) -> str:
    """A profile's languages as stored ("en es"): supported codes only, at least one."""
    chosen = language.codes(" ".join(raw))
    if not chosen:
        raise AccountError("Choose at least one language this person answers in.")
    return " ".join(chosen)


def create(by: User, email: str | None, name: str | None, role: str, capacity, pager_phone: str | None,
           languages: list[str] | None = None) -> User:
    """A new account (flushed, not committed) that nobody can sign in to until its invite link is used.
    Form values come as typed (`languages`: codes, None for English only); AccountError says what is wrong."""
    email = (email or "").strip().lower()
    name = (name or "").strip()
    if "@" not in email or not name:
        raise AccountError("An email address and a name are needed.")
    if role not in ROLES:
        raise AccountError("Unknown role.")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(f"{email} already has an account.")
    user = User(email=email, display_name=name[:80], role=role, password_hash=_unusable_password(),
                capacity=_whole_number("capacity", capacity, 1, 10), pager_phone=_pager(pager_phone),
                languages=language.DEFAULT if languages is None else _languages(languages))
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", by, "user", user.id, role=role)
    return user


def update(by: User, user: User, name: str | None, role: str, active: bool, capacity,
           pager_phone: str | None, languages: list[str] | None = None) -> None:
    """Change an account (`languages`: codes, None to leave them as they are). An admin cannot demote or
    deactivate themselves. A changed role or a deactivation signs the person out everywhere: their open
    consoles sit in rooms of the old role."""
    if role not in ROLES:
        raise AccountError("Unknown role.")
    if user.id == by.id and (role != Role.ADMIN.value or not active):
        raise AccountError("You cannot remove your own admin role or deactivate yourself.")
    capacity = _whole_number("capacity", capacity, 1, 10)
    pager = _pager(pager_phone)
    spoken = user.languages if languages is None else _languages(languages)
    if spoken != user.languages:
        audit.record("languages_change", by, "user", user.id, commit=False, before=user.languages, after=spoken)
    user.languages = spoken
    if role != user.role:
        audit.record("role_change", by, "user", user.id, commit=False, before=user.role, after=role)
    if active != user.active:
        audit.record("user_activated" if active else "user_deactivated", by, "user", user.id, commit=False)
    user.capacity, user.pager_phone = capacity, pager
    user.display_name = (name or user.display_name).strip()[:80]
    role_changed, was_active = role != user.role, user.active
    user.role, user.active = role, active
    db.session.commit()
    if role_changed or (was_active and not active):
        end_all_sessions(user)


def reset_password(by: User, user: User) -> None:
    """The old password stops working and every session ends; a new link sets the next one."""
    user.password_hash = _unusable_password()
    end_all_sessions(user)
    audit.record("password_reset", by, "user", user.id)


def sign_out_everywhere(by: User, user: User) -> None:
    end_all_sessions(user)
    audit.record("sessions_ended", by, "user", user.id)
