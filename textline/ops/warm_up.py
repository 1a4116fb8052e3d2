"""What a web process would otherwise pay in its first texter's webhook, paid while it starts (issue 17:
the first webhook after a start < 100 ms; measured by bench/first_webhook.py).

- the risk lexicon and model (loaded and compiled on first use);
- Celery's publishing side: celery.amqp, its producer pool and the kombu Redis transport are imported
  and connected on the first task sent (half the first webhook's CPU before this).
Nothing here writes anything; a broker that does not answer only leaves the cost to the first webhook.
"""
from __future__ import annotations

from flask import Flask

from textline.safety.risk import score_text


def warm_up(app: Flask) -> None:
    score_text("")
    celery = app.extensions["celery"]
    if celery.conf.task_always_eager:
        return
    try:
        with app.app_context(), celery.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
            celery.amqp.router  # the task router and message builders, imported lazily by celery.amqp
            celery.backend  # the (disabled) result backend, which send_task consults
            celery.events.Dispatcher  # the task-sent events' modules, imported when a task is sent
    except Exception:  # the broker is down: the outbox sweep covers sends, and the first task connects
        app.logger.warning("could not warm up the Celery producer at start", exc_info=True)
