"""Operations tasks and the worker-wide hooks for logs and metrics."""
from __future__ import annotations

from celery import shared_task
from celery.signals import before_task_publish, task_failure

from textline import metrics


@shared_task(name="workers.ops.reconcile_queue")
def reconcile_queue() -> int:
    """Put back conversations SQL has and Redis lost (an outage, a restart without AOF), drop ended ones."""
    from textline.conversations import reconcile_queue as reconcile

    return reconcile()


@task_failure.connect
def _count_failure(sender=None, **_):
    metrics.inc("task_failures", getattr(sender, "name", "unknown"))


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    """A task queued while handling a request logs with that request's id."""
    from textline.logs import current_request_id

    rid = current_request_id()
    if rid and headers is not None:
        headers.setdefault("textline_request_id", rid)
