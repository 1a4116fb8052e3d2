"""Shifts: a volunteer on shift hears about the queue and may claim from it; adults always do.

Volunteers go on and off shift from their console. One who disappears (no console socket left, see
presence.py) is taken off shift after a grace period, and their conversations go back to the queue:
the beat sweep (workers/presence.py) runs sweep_absent every few seconds.
"""
from __future__ import annotations

from sqlalchemy import select, update

from textline import broadcast
from textline.accounts import audit, presence
from textline.extensions import db
from textline.models import ACTIVE, Conversation, User, utcnow
from textline.texting import conversations
from textline.wellbeing import board, pauses, tallies


def sees_queue(user: User) -> bool:
    """Adults always watch the queue; volunteers only while on shift."""
    return user.is_supervisor or user.on_shift


def set_on_shift(user: User, on: bool) -> None:
    """From the console's shift button: recorded, and every console of theirs starts or stops hearing
    about the queue."""
    if on != user.on_shift:
        user.on_shift = on
        user.shift_started_at = utcnow() if on else None
        audit.record("shift_start" if on else "shift_end", user, "user", user.id)
        if on:
            tallies.reset(user.id)  # the panel counts this shift only
        pauses.end(user.id)  # a pause belongs to the shift it happened in
    broadcast.shift_changed(user)
    board.publish()


def sweep_absent() -> int:
    """Volunteers gone longer than the grace period: their conversations go back to the queue and they
    go off shift. State lives in Redis and SQL, so a restart loses nothing. Returns the conversations moved."""
    holders = db.session.scalars(select(Conversation.volunteer_id).where(
        Conversation.status == ACTIVE, Conversation.volunteer_id.is_not(None)).distinct()).all()
    moved = 0
    for user_id in holders:
        away = presence.away_for(user_id)
        if away is None or away < presence.grace_seconds():
            continue
        moved += len(conversations.hand_back_all(user_id, "disconnected"))
        # Gone that long: off shift, so nothing new is routed to them until they come back.
        db.session.execute(update(User).where(User.id == user_id).values(on_shift=False, shift_started_at=None))
        db.session.commit()
        board.publish()
    return moved
