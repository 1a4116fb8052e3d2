"""The Celery app, bound to a Flask app so every task runs inside its app context."""
from __future__ import annotations

from celery import Celery, Task
from celery.signals import setup_logging

# Modules whose tasks the worker must register.
TASK_MODULES = ["workers.outbound", "workers.ops"]
# Periodic sweeps: each re-reads SQL, so a restarted worker or beat loses no timer.
BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "workers.outbound.sweep_outbox", "schedule": 15.0},
    "queue-reconcile": {"task": "workers.ops.reconcile_queue", "schedule": 30.0},
}


@setup_logging.connect
def _keep_our_logging(**_):
    """create_app() has set up JSON logging (textline.logs); a receiver here stops Celery replacing it."""


def celery_init_app(app) -> Celery:
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
            # An unreachable Redis must fail fast: the outbox sweep re-sends what could not be queued.
            "socket_connect_timeout": 2,
        },
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_connection_retry_on_startup=True,
        task_always_eager=cfg["CELERY_ALWAYS_EAGER"],
        include=TASK_MODULES,
        beat_schedule=BEAT_SCHEDULE,
        beat_schedule_filename=f"{cfg['INSTANCE_DIR']}/celerybeat-schedule",
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
