"""When a volunteer is paused: after a conversation they held ends at high risk or after an escalation,
when an adult takes one over from them, and when they ask for a moment. They can go on sooner with
"I'm ready to go on". Every pause is recorded and the adults see it on the volunteers panel."""
from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from textline.accounts import audit
from textline.extensions import db
from textline.models import Conversation, Escalation, User
from textline.wellbeing import board, pauses, status, tallies

log = logging.getLogger(__name__)


def _volunteer(user_id: int | None) -> User | None:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user if user is not None and not user.is_supervisor else None


def _high_risk(conv: Conversation) -> bool:
    """High as the scorer saw it, or as the volunteer assessed it in the wrap-up."""
    return conv.risk_level == "high" or (conv.disposition or {}).get("risk") == "high"


def _had_escalation(conv: Conversation) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.conversation_id == conv.id)))


def after_close(conv: Conversation) -> None:
    """A conversation a volunteer held has ended (they, an adult, STOP or the server closed it)."""
    user = _volunteer(conv.volunteer_id)
    if user is None:
        return
    high = _high_risk(conv)
    reason = "high_risk" if high else "escalation" if _had_escalation(conv) else None
    try:
        if reason:
            tallies.hard_conversation(user.id, high)
            pause(user, reason, conv.id)
        else:
            board.publish()
    except RedisError as exc:  # after the close committed: the close stands, the pause is lost
        log.warning("no pause after conversation %s, Redis unavailable: %s", conv.id, exc)


def after_take_over(conv: Conversation, previous_id: int | None) -> None:
    """An adult took a conversation over from a volunteer."""
    user = _volunteer(previous_id)
    if user is None:
        return
    try:
        tallies.hard_conversation(user.id, _high_risk(conv))
        if pauses.current(user.id):  # e.g. they asked for a moment: that pause and its reason stand
            board.publish()
        else:
            pause(user, "taken_over", conv.id)
    except RedisError as exc:
        log.warning("no pause after take-over of %s, Redis unavailable: %s", conv.id, exc)


def pause(user: User, reason: str, conversation_id: int | None = None) -> dict | None:
    """Pause a volunteer for the configured minutes; they and the adults are told."""
    started = pauses.start(user.id, reason, current_app.config["PAUSE_MINUTES"], conversation_id)
    if started is not None:
        tallies.paused(user.id)
        audit.record("wellbeing.pause", user, "user", user.id, reason=reason, conversation_id=conversation_id)
    status.tell(user)
    board.publish()
    return started


def ready(user: User) -> bool:
    """"I'm ready to go on": the pause ends now."""
    was = pauses.end(user.id)
    if was:
        audit.record("wellbeing.ready", user, "user", user.id)
    status.tell(user)
    board.publish()
    return was
