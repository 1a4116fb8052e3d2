"""The Celery app of workers and beat: the web app's Celery app (textline/tasks.py) with the task
modules registered and the beat schedule."""
from __future__ import annotations

from celery import Celery
from celery.signals import setup_logging, task_failure
from flask import Flask

from textline.ops import metrics
# Imported for their tasks: each registers itself with the Celery app.
from workers import blocklist, escalation, media, ops, outbound, presence, retention, riskmodels, spool  # noqa: F401
from workers.broker import transport_for
from workers.timers import Heartbeat

# Periodic sweeps: each re-reads SQL, so a restarted worker or beat loses no timer.
BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "workers.outbound.sweep_outbox", "schedule": 15.0},
    # Texters' pictures whose fetch task was lost, or whose deletion at Twilio is still owed.
    "media-sweep": {"task": "workers.media.sweep_media", "schedule": 60.0, "options": {"expires": 120}},
    # Every ESCALATION_SWEEP_SECONDS (set in init_app). Sweeps queued while no worker was up
    # expire instead of piling up: the next one does all their work.
    "escalation-sweep": {"task": "workers.escalation.sweep_escalations", "schedule": 5.0,
                         "options": {"expires": 30}},
    "presence-sweep": {"task": "workers.presence.sweep_absent", "schedule": 5.0},
    "retention": {"task": "workers.retention.apply_retention", "schedule": 3600.0},
    # Blocks past their expiry: the texter's held-back conversation joins the queue.
    "block-expiry": {"task": "workers.blocklist.expire_blocks", "schedule": 60.0, "options": {"expires": 120}},
    "queue-reconcile": {"task": "workers.ops.reconcile_queue", "schedule": 30.0},
    # Webhooks kept on disk while SQL was down (web processes also drain their own on recovery).
    "spool-drain": {"task": "workers.spool.drain_spool", "schedule": 30.0, "options": {"expires": 60}},
}


@setup_logging.connect
def _keep_our_logging(**_):
    """create_app() has set up JSON logging (textline/ops/logs.py); a receiver here stops Celery replacing it."""


@task_failure.connect
def _count_failure(sender=None, **_):
    """textline_task_failures_total. Runs after the task's app context has closed: open one."""
    flask_app = getattr(getattr(sender, "app", None), "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            metrics.inc("task_failures", sender.name)


def init_app(app: Flask) -> Celery:
    """The app's Celery app, ready to run tasks (a worker, beat, or a test process running them eagerly)."""
    celery = app.extensions["celery"]
    cfg = app.config
    schedule = {**BEAT_SCHEDULE, "escalation-sweep": {**BEAT_SCHEDULE["escalation-sweep"],
                                                      "schedule": float(cfg["ESCALATION_SWEEP_SECONDS"])}}
    celery.conf.update(beat_schedule=schedule, beat_schedule_filename=f"{cfg['INSTANCE_DIR']}/celerybeat-schedule",
                       # beat writes its heartbeat each tick, at least every sweep interval
                       beat_scheduler="workers.timers:HeartbeatScheduler",
                       beat_max_loop_interval=float(cfg["ESCALATION_SWEEP_SECONDS"]))
    transport = transport_for(celery.conf.broker_url or "")
    if transport:  # survives Redis going away mid-task (workers/broker.py)
        celery.conf.broker_transport = transport
    if Heartbeat not in celery.steps["worker"]:
        celery.steps["worker"].add(Heartbeat)
    return celery
