"""Liveness and readiness for load balancers, orchestrators and monitors.

/healthz: this process is alive and serving (what nginx and Docker health checks use: a web process
must keep taking webhooks even while a dependency is down, since it stores them in SQL).
/readyz: the whole system can work: Redis, the database and at least one Celery worker answer. It also
gives this host's spool (webhooks waiting on disk for the database): how many, and the oldest's age.
/healthz/timers: the safety timers run: beat ticks, an escalation sweep ran within its bound and a
worker is alive (textline/safety/timers.py); the beat and worker containers' health checks, monitors
and the supervisors' "timers are not running" banner use it.
All are public on purpose and say nothing but up or down, which part, and counts; details go to the log.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from textline import redis_store
from textline.extensions import db
from textline.safety import timers
from textline.texting import spool

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _redis() -> str:
    redis_store.get_redis().ping()
    return "ok"


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    finally:
        db.session.rollback()


def _celery() -> str:
    if current_app.config["CELERY_ALWAYS_EAGER"]:
        return "eager"  # tasks run inside this process: there is no worker to ask
    celery = current_app.extensions["celery"]
    if redis_store.unreachable(celery.conf.broker_url or ""):  # its ping would wait out kombu's retries
        raise RuntimeError("the broker did not answer just now")
    replies = celery.control.ping(timeout=current_app.config["READYZ_CELERY_TIMEOUT"], limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered the ping")
    return "ok"


CHECKS = {"redis": _redis, "database": _database, "celery": _celery}


@bp.get("/readyz")
def readyz():
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:
            log.warning("readiness check failed: %s: %s", name, exc.__class__.__name__)
            results[name] = "down"
    ready = all(v != "down" for v in results.values())
    return jsonify(status="ready" if ready else "not ready", checks=results, spool=_spool()), 200 if ready else 503


def _spool() -> dict:
    """This host's spool. Unreadable, it does not make the process unready (SQL still takes every text),
    but a database outage would then find no spool: an operator must see it."""
    waiting = spool.depth()
    if waiting.unreadable:
        log.warning("spool unreadable: %s", spool.directory())
        return {"depth": None, "oldest_seconds": None, "error": "unreadable"}
    return {"depth": waiting.count, "oldest_seconds": round(waiting.oldest_seconds(), 1)}


@bp.get("/healthz/timers")
def timers_health():
    try:
        state = timers.status()
    except Exception as exc:
        log.warning("timers check failed: %s", exc.__class__.__name__)
        return jsonify(status="not running", problems=["redis"]), 503
    if not state["ok"]:
        log.warning("safety timers not running: %s", ", ".join(state["problems"]))
        return jsonify(status="not running", problems=state["problems"]), 503
    return jsonify(status="running", problems=[])
