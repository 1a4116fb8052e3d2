"""Volunteers who disappear: after a grace period their conversations go back to the queue
(textline/accounts/shifts.py)."""
from __future__ import annotations

from celery import shared_task

from textline.accounts import shifts


@shared_task(name="workers.presence.sweep_absent")
def sweep_absent() -> int:
    """Runs every few seconds from beat."""
    return shifts.sweep_absent()
