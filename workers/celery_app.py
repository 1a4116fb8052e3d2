"""The Celery app, bound to a Flask app so every task runs inside its app context."""
from __future__ import annotations

from celery import Celery, Task
from celery.signals import before_task_publish, setup_logging, task_failure

# Modules whose tasks the worker must register.
TASK_MODULES = ["workers.outbound", "workers.escalation", "workers.presence", "workers.retention", "workers.ops"]
# Periodic sweeps: each re-reads SQL, so a restarted worker or beat loses no timer.
BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "workers.outbound.sweep_outbox", "schedule": 15.0},
    # Every ESCALATION_SWEEP_SECONDS (set in celery_init_app). Sweeps queued while no worker was up
    # expire instead of piling up: the next one does all their work.
    "escalation-sweep": {"task": "workers.escalation.sweep_escalations", "schedule": 5.0,
                         "options": {"expires": 30}},
    "presence-sweep": {"task": "workers.presence.sweep_absent", "schedule": 5.0},
    "retention": {"task": "workers.retention.apply_retention", "schedule": 3600.0},
    "queue-reconcile": {"task": "workers.ops.reconcile_queue", "schedule": 30.0},
}


@setup_logging.connect
def _keep_our_logging(**_):
    """create_app() has set up JSON logging (textline.logs); a receiver here stops Celery replacing it."""


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    """A task queued while handling a request logs with that request's id (textline.logs)."""
    from textline.logs import current_request_id

    rid = current_request_id()
    if rid and headers is not None:
        headers.setdefault("textline_request_id", rid)


@task_failure.connect
def _count_failure(sender=None, **_):
    """textline_task_failures_total. Runs after the task's app context has closed: open one."""
    from textline import metrics

    flask_app = getattr(getattr(sender, "app", None), "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            metrics.inc("task_failures", sender.name)


def celery_init_app(app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    cfg = app.config
    schedule = {**BEAT_SCHEDULE, "escalation-sweep": {**BEAT_SCHEDULE["escalation-sweep"],
                                                      "schedule": float(cfg["ESCALATION_SWEEP_SECONDS"])}}
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
            # An unreachable Redis must fail fast: the outbox sweep re-sends what could not be queued.
            "socket_connect_timeout": 2,
        },
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_connection_retry_on_startup=True,
        task_always_eager=cfg["CELERY_ALWAYS_EAGER"],
        include=TASK_MODULES,
        beat_schedule=schedule,
        beat_schedule_filename=f"{cfg['INSTANCE_DIR']}/celerybeat-schedule",
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery
