"""The escalation sweep task: reads every deadline from SQL (textline/safety/escalation.py).

Beat sends it every ESCALATION_SWEEP_SECONDS, it is timed for each deadline (textline/safety/timers.py),
and workers send it in beat's place when beat goes quiet (workers/timers.py). Overlapping sweeps are
harmless (conditional updates and unique keys in SQL); a short Redis lock just keeps them from doing the
same work twice. The lock names the worker holding it, and expires after timers.lock_for(), so a worker
killed mid-sweep holds the others back for that long at most.
"""
from __future__ import annotations

import secrets

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError
from flask import current_app

from textline.redis_store import get_redis, key
from textline.duty import reminders
from textline.safety import escalation, timers

LOCK = key("lock", "escalation-sweep")


# A sweep timed for a deadline that finds another sweep running (which may have started before the
# deadline, and so not open it) tries again this soon, for up to lock_for(); then beat's sweep stands in.
TIMED_RETRY_SECONDS = 0.05


@shared_task(bind=True, name="workers.escalation.sweep_escalations")
def sweep_escalations(self, timed: bool = False) -> dict:
    token = f"{self.request.hostname or 'local'} {secrets.token_hex(8)}"
    try:
        locked = bool(get_redis().set(LOCK, token, nx=True, px=int(1000 * timers.lock_for())))
    except Exception:  # Redis trouble must not stop the sweep: SQL alone keeps it correct
        current_app.logger.warning("escalation sweep: no Redis lock, sweeping anyway")
        locked, token = True, None
    if not locked:
        if not timed:
            return {"skipped": "another sweep is running"}
        try:
            raise self.retry(countdown=TIMED_RETRY_SECONDS, max_retries=int(timers.lock_for() / TIMED_RETRY_SECONDS))
        except MaxRetriesExceededError:
            return {"skipped": "other sweeps ran throughout; beat's sweep stands in"}
    try:
        # Report decisions still owed are reminded by the same sweep: the same few seconds' resolution.
        return {**escalation.sweep(), "report_reminders": reminders.sweep()}
    finally:
        try:
            if token and get_redis().get(LOCK) == token:  # ours, not a later sweep's after expiry
                get_redis().delete(LOCK)
        except Exception:
            pass
