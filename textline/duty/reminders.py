"""Reminding the adults of a report decision still owed after REPORT_REMINDER_MINUTES: once per decision,
as a Socket.IO `report_reminder` on every adult's dashboard, and the work list marks it overdue.

Run by the escalation sweep's task (workers/escalation.py) every few seconds. The reminder is won by a
conditional UPDATE of reminded_at, so overlapping sweeps remind once."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from textline import broadcast
from textline.accounts import audit
from textline.duty import payloads
from textline.extensions import db
from textline.models import ReportDecision, utcnow

BATCH = 200


def remind_after() -> timedelta:
    return timedelta(minutes=current_app.config["REPORT_REMINDER_MINUTES"])


def overdue(report: ReportDecision, now: datetime) -> bool:
    return report.decided_at is None and report.owed_at <= now - remind_after()


def sweep(now: datetime | None = None) -> int:
    """Remind every decision owed longer than the setting and not yet reminded. Returns how many."""
    now = now or utcnow()
    due = db.session.scalars(select(ReportDecision).where(
        ReportDecision.decided_at.is_(None), ReportDecision.reminded_at.is_(None),
        ReportDecision.owed_at <= now - remind_after()).order_by(ReportDecision.owed_at).limit(BATCH)).all()
    reminded = []
    for report in due:
        won = db.session.execute(update(ReportDecision).where(
            ReportDecision.id == report.id, ReportDecision.reminded_at.is_(None), ReportDecision.decided_at.is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount == 1
        if not won:  # another sweep reminded, or an adult decided meanwhile
            db.session.rollback()
            continue
        audit.record("report.remind", None, "report_decision", report.id, commit=False,
                     conversation_id=report.conversation_id)
        db.session.commit()
        db.session.refresh(report)
        reminded.append(report)
    for report in reminded:
        broadcast.report_reminder(payloads.report(report))
    if reminded:
        broadcast.work_changed()
    return len(reminded)
