"""Operations tasks."""
from __future__ import annotations

from celery import shared_task

from textline.texting import queue_sync


@shared_task(name="workers.ops.reconcile_queue")
def reconcile_queue() -> int:
    """Put back conversations SQL has and Redis lost (an outage, a restart without AOF), drop ended ones."""
    return queue_sync.reconcile_queue()
