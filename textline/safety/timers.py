"""Are the safety timers running? Heartbeats, the bound, and a sweep timed for each deadline.

Three things keep a deadline firing whatever single process dies (README, "Safety"):
- a sweep task timed for the deadline itself (`schedule`, to the next 50 ms), sent when the deadline is
  made and by every sweep for the next one, run by any worker (so beat's death does not delay it); if
  another sweep holds the sweep lock then, it tries again a moment later instead of waiting for beat;
- beat's sweep every ESCALATION_SWEEP_SECONDS (S), which finds anything a lost task missed;
- every worker's heartbeat step (workers/timers.py): when beat's heartbeat or the last sweep is older
  than `stand_in_after()`, one worker at a time (a Redis lock) sends the sweep in beat's place, every S.
So a due deadline fires within `bound()` = 2 S + 5 s while one worker is alive; nothing fires twice,
because the sweep itself is exactly-once (unique keys and conditional updates in SQL).

Heartbeats are Unix times in Redis. Writing them is best effort: a Redis outage must not stop a sweep.
"""
from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timezone

from flask import current_app
from redis.exceptions import RedisError

from textline import tasks
from textline.redis_store import get_redis, key

log = logging.getLogger(__name__)

BEAT = key("timers", "beat")        # beat's last tick
SWEPT = key("timers", "swept")      # when the last escalation sweep finished (any process)
WORKERS = key("timers", "workers")  # zset: worker name -> its last heartbeat
COVER_LOCK = key("lock", "timers-cover")
# key("timers", "at", ms): a sweep is already timed for that moment


def interval() -> float:
    return float(current_app.config["ESCALATION_SWEEP_SECONDS"])


def stale_after() -> float:
    """A heartbeat older than this means its process has stopped: beat ticks and sweeps every S, so
    this is one missed beat and 3 s of slack for a busy machine."""
    return interval() + 3


def stand_in_after() -> float:
    """Workers send the sweep in beat's place once beat or the sweeps are this quiet: one missed beat,
    and sooner than stale_after(), so while beat is down the sweeps themselves never look stale."""
    return interval() + 1.5


def lock_for() -> float:
    """How long a sweep's lock lasts: a worker killed mid-sweep holds the others back this long at most."""
    return interval() + 2


def bound() -> float:
    """The longest a due deadline waits while one worker lives. Beat dead: it is noticed after
    stand_in_after(), at a worker heartbeat (every S), whose sweep then takes a moment (3.5 s allowed):
    2 S + 5 s. A worker killed mid-sweep: its lock expires (S + 2 s), beat sweeps within S."""
    return 2 * interval() + 5


def _write(fn) -> None:
    try:
        fn(get_redis())
    except (RedisError, OSError) as exc:
        log.warning("timer heartbeat not written: %s", exc.__class__.__name__)


def beat_ticked() -> None:
    _write(lambda r: r.set(BEAT, time.time()))


def swept() -> None:
    _write(lambda r: r.set(SWEPT, time.time()))


def worker_alive(name: str) -> None:
    def write(r):
        now = time.time()
        pipe = r.pipeline(transaction=False)
        pipe.zadd(WORKERS, {name: now})
        pipe.zremrangebyscore(WORKERS, "-inf", now - 3600)  # forget workers gone for an hour
        pipe.execute()
    _write(write)


def beat_age() -> float | None:
    return _age(get_redis().get(BEAT))


def worker_age(name: str) -> float | None:
    return _age(get_redis().zscore(WORKERS, name))


def _age(value) -> float | None:
    return None if value is None else max(0.0, time.time() - float(value))


def status() -> dict:
    """What /healthz/timers, /metrics and the supervisors' banner say. ok: beat ticks, a sweep ran
    lately and a worker is alive. Raises RedisError when Redis does not answer."""
    r = get_redis()
    pipe = r.pipeline(transaction=False)
    pipe.get(BEAT)
    pipe.get(SWEPT)
    pipe.zcount(WORKERS, time.time() - stale_after(), "+inf")
    beat, sweep, workers = pipe.execute()
    beat_age, sweep_age, limit = _age(beat), _age(sweep), stale_after()
    problems = []
    if beat_age is None or beat_age > limit:
        problems.append("beat")
    if sweep_age is None or sweep_age > limit:
        problems.append("sweep")
    if not workers:
        problems.append("workers")
    return {"ok": not problems, "problems": problems, "beat_age": beat_age, "sweep_age": sweep_age,
            "workers": workers, "stale_after": limit}


def running() -> bool:
    """For the dashboard: False when the timers are not known to run (Redis down counts as not)."""
    try:
        return status()["ok"]
    except (RedisError, OSError):
        return False


def take_beats_turn() -> bool:
    """A worker's heartbeat asks: should I send the sweep in beat's place now? Yes when beat or the
    sweeps have gone quiet, to one worker per interval (the lock expires just before the next beat)."""
    r = get_redis()
    beat, sweep = r.mget(BEAT, SWEPT)
    limit = stand_in_after()
    quiet = any(age is None or age > limit for age in (_age(beat), _age(sweep)))
    return quiet and bool(r.set(COVER_LOCK, "1", nx=True, px=int(interval() * 900)))


# A sweep is timed to the end of the TIMED_STEP a deadline falls in: deadlines that close share one
# sweep, and an alert is at most this late for the rounding (issue 17: lateness p99 < 250 ms).
TIMED_STEP = 0.05


def schedule(due: datetime | None) -> None:
    """Time a sweep for a deadline: to the end of its TIMED_STEP, once per step (Redis remembers), never
    further ahead than half the broker's visibility timeout (else Redis would hand the waiting task to
    a second worker); such a sweep finds nothing due and times the next hop itself."""
    if due is None:
        return
    now = time.time()
    at = math.ceil(due.replace(tzinfo=due.tzinfo or timezone.utc).timestamp() / TIMED_STEP) * TIMED_STEP
    furthest = now + max(1.0, current_app.config["CELERY_VISIBILITY_TIMEOUT"] / 2)
    if at > furthest:  # a hop towards a far deadline: one per whole second, however many texts ask for it
        at = math.floor(furthest)
    at = max(at, now)
    try:
        if not get_redis().set(key("timers", "at", round(at * 1000)), "1", nx=True, ex=int(at - now) + 60):
            return
    except (RedisError, OSError):
        return  # no Redis, no broker either: beat's or the workers' sweep will find it
    tasks.sweep_escalations_at(datetime.fromtimestamp(at, timezone.utc))
