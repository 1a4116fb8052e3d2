"""The Celery app, bound to a Flask app so every task runs inside its app context."""
from __future__ import annotations

from celery import Celery, Task

# Modules whose tasks the worker must register.
TASK_MODULES = ["workers.outbound", "workers.escalation"]
# Periodic sweeps: each re-reads SQL, so a restarted worker or beat loses no timer.
BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "workers.outbound.sweep_outbox", "schedule": 15.0},
    # Every ESCALATION_SWEEP_SECONDS (set in celery_init_app). Sweeps queued while no worker was up
    # expire instead of piling up: the next one does all their work.
    "escalation-sweep": {"task": "workers.escalation.sweep_escalations", "schedule": 5.0,
                         "options": {"expires": 30}},
}


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
        },
        broker_connection_retry_on_startup=True,
        task_always_eager=cfg["CELERY_ALWAYS_EAGER"],
        include=TASK_MODULES,
        beat_schedule=schedule,
        beat_schedule_filename=f"{cfg['INSTANCE_DIR']}/celerybeat-schedule",
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
