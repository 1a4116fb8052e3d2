"""Volunteers who disappear: after a grace period their conversations go back to the queue."""
from __future__ import annotations

from celery import shared_task
from sqlalchemy import select, update

from textline import conversations, presence
from textline.extensions import db
from textline.models import ACTIVE, Conversation, User


@shared_task(name="workers.presence.sweep_absent")
def sweep_absent() -> int:
    """Runs every few seconds from beat; state lives in Redis and SQL, so a restart loses nothing."""
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
    return moved
