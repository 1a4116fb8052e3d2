"""Outbound SMS tasks. The logic lives in textline.delivery; here are retries and the outbox sweep."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from textline import delivery, metrics


def backoff(retries: int) -> int:
    """1, 2, 4, 8, 16, 30, 30... seconds: short, because a teen is waiting, and well under the broker's
    visibility timeout so a retry is never redelivered twice."""
    return min(30, 2 ** retries)


@shared_task(bind=True, name="workers.outbound.send_message", max_retries=None)
def send_message(self, message_id: int) -> str:
    try:
        return delivery.deliver(message_id).status
    except delivery.TransientFailure as exc:
        if self.request.retries >= current_app.config["OUTBOUND_MAX_RETRIES"]:
            delivery.give_up(message_id)
            metrics.inc("task_failures", self.name)
            return "failed"
        countdown = exc.retry_in if exc.retry_in is not None else backoff(self.request.retries)
        raise self.retry(exc=exc, countdown=countdown)


@shared_task(name="workers.outbound.sweep_outbox")
def sweep_outbox() -> int:
    """Re-send outbox rows whose task was lost. Safe to overlap with live tasks: deliver() is idempotent."""
    ids = delivery.stuck_message_ids(timedelta(seconds=current_app.config["OUTBOUND_SWEEP_AFTER_SECONDS"]))
    for message_id in ids:
        send_message.delay(message_id)
    return len(ids)
