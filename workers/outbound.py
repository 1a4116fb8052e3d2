"""Outbound SMS tasks. The logic lives in textline.texting.delivery; here are retries and the outbox sweep.

Texts to texters (send_message) and pages to advisors (send_page) share one state machine and one
retry policy; only the outbox differs."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from textline.ops import metrics
from textline.texting import delivery


def backoff(retries: int) -> int:
    """1, 2, 4, 8, 16, 30, 30... seconds: short, because a teen is waiting, and well under the broker's
    visibility timeout so a retry is never redelivered twice."""
    return min(30, 2 ** retries)


def _send(task, outbox: delivery.Outbox, row_id: int) -> str:
    try:
        return delivery.deliver(row_id, outbox).status
    except delivery.TransientFailure as exc:
        if task.request.retries >= current_app.config["OUTBOUND_MAX_RETRIES"]:
            delivery.give_up(row_id, outbox)
            metrics.inc("task_failures", task.name)
            return "failed"
        countdown = exc.retry_in if exc.retry_in is not None else backoff(task.request.retries)
        raise task.retry(exc=exc, countdown=countdown)


@shared_task(bind=True, name="workers.outbound.send_message", max_retries=None)
def send_message(self, message_id: int) -> str:
    return _send(self, delivery.MESSAGES, message_id)


@shared_task(bind=True, name="workers.outbound.send_page", max_retries=None)
def send_page(self, page_id: int) -> str:
    return _send(self, delivery.PAGES, page_id)


TASKS = {delivery.MESSAGES.name: send_message, delivery.PAGES.name: send_page}


@shared_task(name="workers.outbound.sweep_outbox")
def sweep_outbox() -> int:
    """Re-send outbox rows (texts and pages) whose task was lost. Safe to overlap with live tasks:
    deliver() is idempotent."""
    older_than = timedelta(seconds=current_app.config["OUTBOUND_SWEEP_AFTER_SECONDS"])
    count = 0
    for outbox in delivery.OUTBOXES:
        for row_id in delivery.stuck_ids(older_than, outbox):
            TASKS[outbox.name].delay(row_id)
            count += 1
    return count
