"""Debrief tasks on the volunteers panel: an adult takes one (becomes its owner) and marks it done."""
from __future__ import annotations

from textline.accounts import audit
from textline.extensions import db
from textline.models import DebriefTask, User, utcnow
from textline.ops.request_args import whole_number
from textline.texting.conversations import ConversationError
from textline.wellbeing import board


def _task(task_id) -> DebriefTask:
    tid = whole_number(task_id)
    task = db.session.get(DebriefTask, tid) if tid is not None else None
    if task is None:
        raise ConversationError("That debrief does not exist.", "not_found")
    return task


def take(task_id, adult: User) -> DebriefTask:
    task = _task(task_id)
    task.owner_id = adult.id
    audit.record("debrief.take", adult, "debrief", task.id, commit=False, volunteer_id=task.volunteer_id)
    db.session.commit()
    board.publish()
    return task


def done(task_id, adult: User) -> DebriefTask:
    task = _task(task_id)
    if task.done_at is None:
        task.done_at = utcnow()
        task.owner_id = task.owner_id or adult.id
        audit.record("debrief.done", adult, "debrief", task.id, commit=False, volunteer_id=task.volunteer_id)
        db.session.commit()
        board.publish()
    return task
