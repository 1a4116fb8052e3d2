"""The escalation timer: a beat sweep that reads every deadline from SQL (textline/safety/escalation.py).

No countdown lives in a worker, so a killed or restarted worker or beat loses no timer: the next sweep
after it comes back finds the deadline passed and acts. Overlapping sweeps are harmless (conditional
updates and unique keys in SQL); a short Redis lock just keeps them from doing the same work twice.
"""
from __future__ import annotations

import secrets

from celery import shared_task
from flask import current_app

from textline.redis_store import get_redis, key
from textline.safety import escalation

LOCK = key("lock", "escalation-sweep")


@shared_task(name="workers.escalation.sweep_escalations")
def sweep_escalations() -> dict:
    token = secrets.token_hex(8)
    try:
        if not get_redis().set(LOCK, token, nx=True, ex=30):
            return {"skipped": "another sweep is running"}
    except Exception:  # Redis trouble must not stop the sweep: SQL alone keeps it correct
        current_app.logger.warning("escalation sweep: no Redis lock, sweeping anyway")
        token = None
    try:
        return escalation.sweep()
    finally:
        try:
            if token and get_redis().get(LOCK) == token:  # ours, not a later sweep's after expiry
                get_redis().delete(LOCK)
        except Exception:
            pass
