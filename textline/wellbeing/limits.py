"""Shift limits: the longest continuous shift (a reminder before it, then a gentle stop: no new texters,
open conversations kept), and the most high-risk conversations in one shift, after which high-risk
texters go to other volunteers first while one of them can take them. Adults have no limits here."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select

from textline.accounts import presence
from textline.extensions import db
from textline.models import Role, User
from textline.texting import queue
from textline.wellbeing import pauses, tallies


def shift_max_minutes() -> int:
    return current_app.config["SHIFT_MAX_MINUTES"]


def high_risk_limit() -> int:
    return current_app.config["HIGH_RISK_PER_SHIFT"]


def past_shift_limit(user: User, now: datetime | None = None) -> bool:
    limit = shift_max_minutes()
    if not limit or user.is_supervisor or not user.shift_started_at:
        return False
    now = now or datetime.now(timezone.utc)
    return (now - user.shift_started_at).total_seconds() >= limit * 60


def high_risk_limit_reached(user: User, tally: dict | None = None) -> bool:
    limit = high_risk_limit()
    if not limit or user.is_supervisor:
        return False
    return (tally or tallies.read(user.id))[tallies.HIGH] >= limit


def others_for_high_risk(user: User) -> bool:
    """Whether another volunteer can take a high-risk texter now: on shift with a console open, not
    pausing, with room, under their own high-risk limit and their shift's time."""
    others = db.session.scalars(select(User).where(
        User.on_shift.is_(True), User.active.is_(True), User.role == Role.VOLUNTEER.value, User.id != user.id)).all()
    if not others:
        return False
    ids = [u.id for u in others]
    present, paused, loads, counts = (presence.present_among(ids), pauses.current_for(ids), queue.loads(ids),
                                      tallies.read_many(ids))
    return any(u.id in present and not paused[u.id] and loads[u.id] < u.capacity
               and not high_risk_limit_reached(u, counts[u.id]) and not past_shift_limit(u) for u in others)


def refusal(user: User, risk_level: str) -> tuple[str, str] | None:
    """Why this volunteer may not take this texter now (message, code), or None. The pause itself is
    checked in the claim's atomic step (queue.claim)."""
    if past_shift_limit(user):
        return (f"You have been on shift for {shift_max_minutes() // 60}h{shift_max_minutes() % 60:02d}, the "
                "longest shift here: no new texters. Your open conversations stay with you.", "shift_limit")
    if risk_level == "high" and high_risk_limit_reached(user) and others_for_high_risk(user):
        return ("You have had several high-risk conversations this shift, so high-risk texters go to other "
                "volunteers first. Take someone else, or ask an adult.", "high_risk_limit")
    return None
