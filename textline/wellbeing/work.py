"""What volunteer wellbeing adds to the adults' work list (textline/duty/work_list.py): debriefs still
owed, and volunteers who are paused or past their shift's length, so an adult checks in with them."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import select

from textline.duty.work_list import WorkItem, work_source
from textline.extensions import db
from textline.models import DebriefTask, Role, User
from textline.payloads import DEBRIEF_REASONS
from textline.wellbeing import limits, pauses


@work_source
def debriefs_owed(now: datetime) -> Iterable[WorkItem]:
    tasks = db.session.scalars(select(DebriefTask).where(DebriefTask.done_at.is_(None))
                               .order_by(DebriefTask.id)).all()
    for task in tasks:
        yield WorkItem("debrief", f"Debrief with {task.volunteer.display_name}", task.created_at,
                       owner=task.owner.display_name if task.owner else None,
                       detail=DEBRIEF_REASONS.get(task.reason, task.reason))


@work_source
def volunteers_to_check_on(now: datetime) -> Iterable[WorkItem]:
    people = db.session.scalars(select(User).where(
        User.on_shift.is_(True), User.active.is_(True), User.role == Role.VOLUNTEER.value)).all()
    try:
        paused = pauses.current_for([u.id for u in people])
    except RedisError:  # the list still shows SQL's items; pauses come back with Redis
        paused = {}
    for user in people:
        pause = paused.get(user.id)
        if pause:
            yield WorkItem("pause", f"{user.display_name} is pausing", datetime.fromisoformat(pause["since"]),
                           detail=pause["reason_text"])
        if limits.past_shift_limit(user, now):
            yield WorkItem("shift_limit", f"{user.display_name} is past the longest shift",
                           user.shift_started_at + timedelta(minutes=limits.shift_max_minutes()),
                           detail="no new texters; open conversations stay with them")
