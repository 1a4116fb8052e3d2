"""Heartbeats of beat and the workers, and workers standing in for a dead beat (textline/safety/timers.py).

beat runs with HeartbeatScheduler: each tick writes beat's heartbeat. Each worker runs the Heartbeat step:
every ESCALATION_SWEEP_SECONDS, in the worker's own timer (not the task pool, so a busy pool does not
silence it), it writes its heartbeat and, when beat or the sweeps have gone quiet, one worker at a time
sends the escalation sweep in beat's place.
"""
from __future__ import annotations

import logging

from celery import bootsteps
from celery.beat import PersistentScheduler

from textline.safety import timers

log = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        with self.app.flask_app.app_context():
            timers.beat_ticked()
        return super().tick(*args, **kwargs)


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, worker):
        with worker.app.flask_app.app_context():
            every = timers.interval()
        self.beat(worker)
        self.tref = worker.timer.call_repeatedly(every, self.beat, (worker,), priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()

    def beat(self, worker):
        try:
            with worker.app.flask_app.app_context():
                timers.worker_alive(worker.hostname)
                if timers.take_beats_turn():
                    log.warning("beat or the sweeps are quiet: %s sends the escalation sweep", worker.hostname)
                    worker.app.send_task("workers.escalation.sweep_escalations", expires=timers.interval() * 2)
        except Exception:  # the timer thread must keep running whatever one beat met
            log.exception("worker heartbeat failed")
