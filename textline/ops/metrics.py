"""Prometheus metrics at /metrics, the same answer from every web process.

Counters are events that happen in any process (a webhook on web B, a failure in a worker), so they
are kept in Redis and read at scrape time; gauges (queue length, oldest wait, outbox backlog) are
read from Redis and SQL at scrape time. Recording is best effort: a metric must never fail or slow a
webhook, so when Redis is down the increment is dropped (textline_metrics_redis_up says so).

Only counts and durations are recorded here: never bodies, numbers or ids of texters.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import socket
import time
from datetime import timedelta

from flask import Blueprint, Response, current_app, request
from flask_login import current_user
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.utils import floatToGoString
from redis.exceptions import RedisError
from sqlalchemy import func, select

from textline.accounts.access import has_role
from textline.extensions import db
from textline.models import OUTBOUND, WAITING, Conversation, Message, utcnow
from textline.redis_store import get_redis, key
from textline.safety import deadlines, timers
from textline.texting import spool

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

COUNTERS = key("metrics", "counters")
WAIT = key("metrics", "wait")
SOCKETS = key("metrics", "sockets")        # hash: process -> connected clients
PROCESSES = key("metrics", "processes")    # zset: process -> last report (unix time)
PROCESS_STALE_AFTER = 90                   # seconds without a report: the process is gone
# Seconds from entering the queue to a volunteer claiming it.
WAIT_BUCKETS = (15, 30, 60, 120, 300, 600, 1200, 3600)

# name -> (help, label names); the Redis field is "name|label1|label2".
COUNTER_HELP = {
    "webhooks": ("Twilio webhooks received, by endpoint and outcome", ("endpoint", "outcome")),
    "messages": ("Text messages: in = stored from a texter, out = accepted by Twilio", ("direction",)),
    "escalations": ("Escalations opened (an adult pulled in), by reason", ("kind",)),
    "notices": ("Notices sent to supervisors (failed deliveries, hand-backs), by kind", ("kind",)),
    "pages": ("SMS pages to advisors' phones accepted by Twilio", ("direction",)),
    "task_failures": ("Celery tasks that failed (raised, or gave up after retries)", ("task",)),
    "media": ("Media items from texters, by how their fetch ended", ("outcome",)),
}


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _safe(fn):
    try:
        fn()
    except (RedisError, OSError) as exc:
        log.debug("metric dropped: %s", exc)


def inc(name: str, *labels: str, amount: int = 1) -> None:
    inc_all((name, *labels), amount=amount)


def inc_all(*counters: tuple[str, ...], amount: int = 1) -> None:
    """Several counters, each (name, *labels), in one Redis round trip (a stored text bumps two)."""
    for name, *labels in counters:
        assert name in COUNTER_HELP and len(labels) == len(COUNTER_HELP[name][1]), name

    def write():
        pipe = get_redis().pipeline(transaction=False)
        for counter in counters:
            pipe.hincrby(COUNTERS, "|".join(counter), amount)
        pipe.execute()

    _safe(write)


def observe_wait(seconds: float) -> None:
    seconds = max(0.0, seconds)
    bucket = next((str(b) for b in WAIT_BUCKETS if seconds <= b), "+Inf")

    def write():
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrby(WAIT, bucket, 1)
        pipe.hincrby(WAIT, "count", 1)
        pipe.hincrbyfloat(WAIT, "sum", seconds)
        pipe.execute()

    _safe(write)


def report_sockets(count: int) -> None:
    """A web process says how many consoles it holds; the scrape sums the live processes."""
    def write():
        proc = process_id()
        pipe = get_redis().pipeline(transaction=False)
        pipe.hset(SOCKETS, proc, count)
        pipe.zadd(PROCESSES, {proc: time.time()})
        pipe.execute()

    _safe(write)


# ---- exposition ---------------------------------------------------------------------------------

class Collector:
    """Reads the shared state at scrape time."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        with self.app.app_context():
            yield from self._redis_metrics()
            yield from self._sql_metrics()
            yield from self._timer_metrics()
            yield from self._spool_metrics()

    def _redis_metrics(self):
        up = GaugeMetricFamily("textline_metrics_redis_up", "1 if Redis answered this scrape")
        try:
            r = get_redis()
            counters = r.hgetall(COUNTERS)
            wait = r.hgetall(WAIT)
            qlen = r.zcard(key("queue"))
            live = r.zrangebyscore(PROCESSES, time.time() - PROCESS_STALE_AFTER, "+inf")
            sockets = r.hmget(SOCKETS, live) if live else []
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        families = {name: CounterMetricFamily(f"textline_{name}", help_, labels=labels)
                    for name, (help_, labels) in COUNTER_HELP.items()}
        for field, value in sorted(counters.items()):
            name, *labels = field.split("|")
            if name in families and len(labels) == len(COUNTER_HELP[name][1]):
                families[name].add_metric(labels, int(value))
        yield from families.values()
        queue = GaugeMetricFamily("textline_queue_length", "Conversations waiting for a volunteer")
        queue.add_metric([], qlen)
        yield queue
        buckets, running = [], 0
        for bound in (*map(str, WAIT_BUCKETS), "+Inf"):
            running += int(wait.get(bound, 0))
            buckets.append((floatToGoString(float(bound)), running))
        hist = HistogramMetricFamily("textline_queue_wait_seconds",
                                     "Time from entering the queue to being claimed by a volunteer")
        hist.add_metric([], buckets, sum_value=float(wait.get("sum", 0)))
        yield hist
        clients = GaugeMetricFamily("textline_socket_clients", "Console Socket.IO connections, all web processes")
        clients.add_metric([], sum(int(c or 0) for c in sockets))
        yield clients
        procs = GaugeMetricFamily("textline_web_processes", "Web processes that reported in the last 90 s")
        procs.add_metric([], len(live))
        yield procs

    def _sql_metrics(self):
        up = GaugeMetricFamily("textline_metrics_database_up", "1 if the database answered this scrape")
        try:
            oldest = db.session.scalar(select(func.min(Conversation.queued_at)).where(
                Conversation.status == WAITING))
            backlog = db.session.scalar(select(func.count()).select_from(Message).where(
                Message.direction == OUTBOUND, Message.status.in_(("pending", "unconfirmed", "submitting")),
                Message.created_at < utcnow() - timedelta(seconds=60)))
        except Exception:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        finally:
            db.session.remove()
        up.add_metric([], 1)
        yield up
        wait = GaugeMetricFamily("textline_oldest_wait_seconds", "How long the longest-waiting texter has waited")
        wait.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0)
        yield wait
        stuck = GaugeMetricFamily("textline_outbox_backlog", "Outbound texts not handed to Twilio after 60 s")
        stuck.add_metric([], backlog)
        yield stuck

    def _spool_metrics(self):
        """This host's spool (a local directory): webhooks waiting on disk for the database."""
        waiting = spool.depth()
        depth = GaugeMetricFamily("textline_spool_depth", "Webhooks in this host's spool, waiting for the database")
        depth.add_metric([], waiting.count)
        yield depth
        oldest = GaugeMetricFamily("textline_spool_oldest_seconds", "Age of the oldest webhook in the spool")
        oldest.add_metric([], waiting.oldest_seconds())
        yield oldest
        unreadable = GaugeMetricFamily("textline_spool_unreadable",
                                       "1 if this host's spool directory cannot be read (a database outage would "
                                       "then have nowhere to keep texts)")
        unreadable.add_metric([], int(waiting.unreadable))
        yield unreadable

    def _timer_metrics(self):
        """Are the safety timers running (textline/safety/timers.py), and is any deadline left overdue?"""
        try:
            state = timers.status()
        except RedisError:
            return
        for name, help_, value in (
                ("textline_timers_last_sweep_age_seconds", "Seconds since an escalation sweep last finished",
                 state["sweep_age"]),
                ("textline_timers_beat_age_seconds", "Seconds since Celery beat last ticked", state["beat_age"])):
            gauge = GaugeMetricFamily(name, help_ + " (+Inf: never)")
            gauge.add_metric([], float("inf") if value is None else value)
            yield gauge
        workers = GaugeMetricFamily("textline_timers_workers", "Celery workers whose heartbeat is fresh")
        workers.add_metric([], state["workers"])
        yield workers
        try:
            now = utcnow()
            earliest = deadlines.earliest(now)
        except Exception:
            db.session.rollback()
            return
        finally:
            db.session.remove()
        overdue = GaugeMetricFamily("textline_timers_oldest_overdue_seconds",
                                    "How long the oldest deadline (wait, silence, page) has been due without "
                                    "its sweep acting; 0 when none is")
        overdue.add_metric([], max(0.0, (now - earliest).total_seconds()) if earliest else 0)
        yield overdue


# ---- the endpoint -------------------------------------------------------------------------------

def _allowed() -> tuple[bool, int]:
    """A scraper with the bearer token, a source address on the allow-list, or a signed-in admin."""
    cfg = current_app.config
    token = cfg.get("METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        given = header[len("Bearer "):].strip()
        ok = bool(token) and hmac.compare_digest(given.encode(), token.encode())
        return ok, 403
    try:
        addr = ipaddress.ip_address(request.remote_addr or "")
        if any(addr in net for net in cfg.get("METRICS_ALLOW_FROM", ())):
            return True, 200
    except ValueError:
        pass
    if current_user.is_authenticated:
        return has_role(current_user, "admin"), 403
    return False, 401


@bp.get("/metrics")
def metrics():
    ok, status = _allowed()
    if not ok:
        resp = Response("metrics need a bearer token (METRICS_TOKEN) or an allowed address\n", status=status,
                        mimetype="text/plain")
        if status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return resp
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(current_app._get_current_object()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
