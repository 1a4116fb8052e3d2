"""A volunteer's own wellbeing state, as their console shows it: their pause, their shift's time and
its limit, and whether high-risk texters now go to others first. Only ever sent to that volunteer."""
from __future__ import annotations

from flask import current_app

from textline import broadcast, payloads
from textline.models import User
from textline.wellbeing import limits, pauses, tallies


def for_volunteer(user: User) -> dict:
    tally = tallies.read(user.id)
    return payloads.wellbeing(
        pause=pauses.current(user.id), shift_started_at=user.shift_started_at if user.on_shift else None,
        shift_max_minutes=limits.shift_max_minutes(), reminder_minutes=current_app.config["SHIFT_REMINDER_MINUTES"],
        past_shift_limit=user.on_shift and limits.past_shift_limit(user),
        high_risk_to_others=limits.high_risk_limit_reached(user, tally), tally=tally)


def tell(user: User) -> None:
    """Every console of this volunteer hears their new state."""
    broadcast.wellbeing_changed(user.id, for_volunteer(user))
