"""The adults' volunteers panel on /supervise: each on-shift volunteer's load this shift and their
pause, and the debriefs still owed. Sent only to the adults' room, never to volunteers' sockets."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import select

from textline import broadcast, payloads
from textline.accounts import presence
from textline.extensions import db
from textline.models import DebriefTask, Role, User
from textline.texting import queue
from textline.wellbeing import limits, pauses, tallies

log = logging.getLogger(__name__)


def snapshot() -> dict:
    people = db.session.scalars(select(User).where(
        User.on_shift.is_(True), User.active.is_(True), User.role == Role.VOLUNTEER.value)
        .order_by(User.display_name)).all()
    ids = [u.id for u in people]
    present, paused, holding, counts = (presence.present_among(ids), pauses.current_for(ids), queue.loads(ids),
                                        tallies.read_many(ids))
    rows = [payloads.volunteer_load(
        u, holding=holding[u.id], tally=counts[u.id], pause=paused[u.id], present=u.id in present,
        past_shift_limit=limits.past_shift_limit(u),
        high_risk_to_others=limits.high_risk_limit_reached(u, counts[u.id])) for u in people]
    tasks = db.session.scalars(select(DebriefTask).where(DebriefTask.done_at.is_(None))
                               .order_by(DebriefTask.id)).all()
    return {"volunteers": rows, "debriefs": [payloads.debrief(t) for t in tasks]}


def publish() -> None:
    """Tell the adults after something changed. Called after SQL committed: Redis being down must not
    fail the caller (the panel catches up at the next change or reload)."""
    try:
        board = snapshot()
    except RedisError as exc:
        log.warning("volunteers panel not updated, Redis unavailable: %s", exc)
        return
    broadcast.volunteer_board_changed(board)
    broadcast.work_changed()  # debriefs and pauses are on the adults' work list too
