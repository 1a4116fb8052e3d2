"""Each web process's own upkeep, in one background task: notice Redis coming back and repair the
queue from SQL, drain the spool when SQL is back, and report this process's console connections for
/metrics."""
from __future__ import annotations

import logging
import threading

from flask import Flask
from redis.exceptions import RedisError

from textline.extensions import socketio
from textline.ops import metrics
from textline.redis_store import get_redis
from textline.texting import spool_drain
from textline.texting.queue_sync import queue_out_of_date, reconcile_queue

log = logging.getLogger(__name__)
_lock = threading.Lock()
_clients: set[str] = set()  # Socket.IO session ids of the consoles this process holds
_started: set[int] = set()


def client_connected(sid: str) -> None:
    with _lock:
        _clients.add(sid)
        count = len(_clients)
    metrics.report_sockets(count)


def client_disconnected(sid: str) -> None:
    """By session id, not by user: the account may be gone (or signed out) by the time this runs."""
    with _lock:
        if sid not in _clients:
            return  # a refused connection was never counted
        _clients.discard(sid)
        count = len(_clients)
    metrics.report_sockets(count)


def tick(app: Flask, redis_was_up: bool) -> bool:
    """One round: returns whether Redis answered."""
    with app.app_context():
        try:
            get_redis().ping()
        except RedisError:
            if redis_was_up:
                log.warning("Redis is unreachable: webhooks are stored in SQL and queued when it returns")
            queue_out_of_date.set()
            return False
        if not redis_was_up or queue_out_of_date.is_set():
            try:
                changed = reconcile_queue()
                log.info("queue reconciled from SQL after a Redis outage", extra={"changes": changed})
            except Exception:
                log.exception("queue reconcile failed; will try again")
                return False
        metrics.report_sockets(len(_clients))
        return True


def start(app: Flask) -> None:
    """Start the loop once per process (gunicorn's gevent worker: a greenlet)."""
    if id(app) in _started:
        return
    _started.add(id(app))
    interval = app.config["REDIS_WATCH_SECONDS"]

    def loop():
        up = True
        while True:
            try:
                up = tick(app, up)
            except Exception:
                log.exception("web upkeep round failed")
            try:
                spool_drain.tick(app)
            except Exception:
                log.exception("spool drain round failed")
            socketio.sleep(interval)

    socketio.start_background_task(loop)
