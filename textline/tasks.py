"""The one way the domain hands work to Celery: tasks by name, never by import.

textline/ never imports workers/ (workers/ imports the domain), so the dependency runs one way. The web
app's Celery app is made here, bound to Flask; workers/celery_app.py adds what only workers and beat
need (the task modules, the beat schedule). A web process sends by name; a worker, or a test process
running tasks eagerly, has the tasks registered and runs them.

    tasks.send_texts(welcome.id, crisis.id)   # in this order, whichever workers run them
    tasks.send_page(page.id)

If the broker is unreachable the rows stay "pending" and the outbox sweep sends them later: nothing is
lost, so these never raise.
"""
from __future__ import annotations

from datetime import timedelta

from celery import Celery, Task, chain
from celery.signals import before_task_publish
from flask import Flask, current_app

from textline import redis_store
from textline.ops.logs import current_request_id

# The names the tasks are registered under (workers/outbound.py). Renaming one strands the tasks
# already queued under the old name: change both sides, and the beat schedule, together.
SEND_MESSAGE = "workers.outbound.send_message"
SEND_PAGE = "workers.outbound.send_page"
SWEEP_ESCALATIONS = "workers.escalation.sweep_escalations"
FETCH_MEDIA = "workers.media.fetch_media"
SCORE_IN_SHADOW = "workers.riskmodels.score_in_shadow"


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    cfg = app.config
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=cfg["CELERY_BROKER_URL"],
        task_ignore_result=True,
        # A task is acknowledged only when it has finished: a killed worker's task is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message at a time per process, so redelivery after visibility_timeout never
        # hands out work that merely sat in a prefetch buffer.
        worker_prefetch_multiplier=1,
        # A killed worker's unacked task comes back after visibility_timeout; sweep for such tasks
        # often (kombu's default sweep is every ~100 s). Never schedule a countdown longer than this.
        broker_transport_options={
            "visibility_timeout": cfg["CELERY_VISIBILITY_TIMEOUT"],
            "unacked_restore_interval": max(1, cfg["CELERY_VISIBILITY_TIMEOUT"] // 4),
            "unacked_restore_throttle": 1,
            # An unreachable or hung Redis must fail fast: the outbox sweep re-sends what could not be queued.
            "socket_connect_timeout": redis_store.TIMEOUT,
            "socket_timeout": redis_store.TIMEOUT,
        },
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_connection_retry_on_startup=True,
        task_always_eager=cfg["CELERY_ALWAYS_EAGER"],
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    """A task queued while handling a request logs with that request's id (textline/ops/logs.py)."""
    rid = current_request_id()
    if rid and headers is not None:
        headers.setdefault("textline_request_id", rid)


def _broker_down() -> bool:
    """The broker did not answer this process a moment ago (redis_store): do not wait for it again. Each
    publish could otherwise take seconds of retries, and a webhook must answer at once."""
    celery = current_app.extensions["celery"]
    return not celery.conf.task_always_eager and redis_store.unreachable(celery.conf.broker_url or "")


def _signature(name: str, *args, **kwargs):
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager and name not in celery.tasks:
        # By name alone an eager app would put it on the broker, where no worker may be listening.
        raise LookupError(f"task {name} is not registered in this process (workers.celery_app.init_app)")
    return celery.signature(name, args=args, kwargs=kwargs, immutable=True)


def send_texts(*message_ids: int) -> None:
    """Send stored outbound texts. Several (a welcome, then crisis information) go as a chain, so the
    texter reads them in the order they were written."""
    if not message_ids:
        return
    sigs = [_signature(SEND_MESSAGE, mid) for mid in message_ids]
    if _broker_down():
        current_app.logger.warning("broker unreachable: outbound messages %s left to the sweep", list(message_ids))
        return
    try:
        (sigs[0] if len(sigs) == 1 else chain(*sigs)).delay()
    except Exception:
        current_app.logger.exception("could not enqueue outbound messages %s; the sweep will retry",
                                     list(message_ids))


def send_page(page_id: int) -> None:
    """Send a stored page to an advisor's phone."""
    sig = _signature(SEND_PAGE, page_id)
    if _broker_down():
        current_app.logger.warning("broker unreachable: page %s left to the outbox sweep", page_id)
        return
    try:
        sig.delay()
    except Exception:
        current_app.logger.exception("could not enqueue page %s; the outbox sweep will retry", page_id)


def fetch_media(*media_ids: int) -> None:
    """Fetch a texter's pictures and files from Twilio (workers/media.py). If they cannot be queued now,
    the media sweep finds the rows still pending."""
    if not media_ids:
        return
    sigs = [_signature(FETCH_MEDIA, mid) for mid in media_ids]
    if _broker_down():
        current_app.logger.warning("broker unreachable: media %s left to the sweep", list(media_ids))
        return
    try:
        for sig in sigs:
            sig.delay()
    except Exception:
        current_app.logger.exception("could not enqueue media %s; the sweep will retry", list(media_ids))


def score_in_shadow(message_id: int) -> None:
    """Score a stored inbound text with the model in shadow (workers/riskmodels.py). Best effort: a text
    whose task is lost is simply not in the comparison; nothing acts on shadow scores."""
    sig = _signature(SCORE_IN_SHADOW, message_id)
    if _broker_down():
        return
    try:
        sig.delay()
    except Exception:
        current_app.logger.exception("could not enqueue shadow scoring of message %s", message_id)


def sweep_escalations_at(eta) -> None:
    """A sweep timed for a deadline (textline/safety/timers.py). Not in an eager app: it cannot wait for
    a time, and beat's sweep does the work there."""
    celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        return
    try:
        # Expires a minute after its time: one that sat longer (no worker) is done by the sweeps.
        _signature(SWEEP_ESCALATIONS, timed=True).apply_async(eta=eta, expires=eta + timedelta(seconds=60))
    except Exception:
        current_app.logger.exception("could not time an escalation sweep; the periodic sweep stands in")
