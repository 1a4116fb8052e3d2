"""One Redis connection pool per process, and the key names Textline uses.

Redis can hang instead of going away (a stopped process, a full disk, a dropped route): the port accepts
and nothing answers. SQL is the record, so a webhook must still answer at once. Every command therefore
waits at most TIMEOUT, is never retried here, and after a failure this process fails further commands to
that Redis at once for RETRY_AFTER seconds; then one command tries again. What was not written to Redis
is repaired from SQL when it answers again (textline/ops/web_upkeep.py, the beat sweeps).
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import redis
import socketio as python_socketio
from flask import current_app
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

TIMEOUT = 1.0  # seconds to connect, and to wait for any answer: Redis answers in well under a millisecond
RETRY_AFTER = 3.0  # seconds this process leaves a Redis alone after it failed to answer

# One client per URL, over one pool: a client holds no per-call state and is safe to share between
# threads and greenlets, while building one costs ~0.1 ms (redis-py fills its response-callback table),
# which every webhook paid about three times over (metrics, Socket.IO emit, escalation timer).
_clients: dict[str, redis.Redis] = {}
_down_until: dict[tuple[str, int], float] = {}  # (host, port) -> monotonic time to try again


def get_redis(url: str | None = None) -> redis.Redis:
    url = url or current_app.config["REDIS_URL"]
    client = _clients.get(url)
    if client is None:
        extra = {"connection_class": FailFastConnection} if url.startswith("redis://") else {}
        pool = redis.ConnectionPool.from_url(
            url, decode_responses=True, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
            health_check_interval=30, retry=Retry(NoBackoff(), 0), **extra)
        client = _clients[url] = redis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
    return client


def unreachable(url: str) -> bool:
    """Whether the Redis at `url` failed to answer this process in the last RETRY_AFTER seconds."""
    if not url.startswith("redis://"):
        return False  # only plain redis:// URLs use FailFastConnection
    where = parse_url(url)
    return time.monotonic() < _down_until.get((where.get("host", "localhost"), int(where.get("port", 6379))), 0)


class FailFastConnection(redis.Connection):
    """A connection that gives up at once while its Redis is known not to answer (see the module)."""

    def _refuse_if_down(self) -> None:
        if time.monotonic() < _down_until.get((self.host, int(self.port)), 0):
            raise RedisConnectionError(f"Redis at {self.host}:{self.port} did not answer just now")

    def _note_failure(self) -> None:
        _down_until[(self.host, int(self.port))] = time.monotonic() + RETRY_AFTER

    @contextmanager
    def _noting_failure(self):
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError):
            self._note_failure()
            raise

    def connect(self, *args, **kwargs):
        self._refuse_if_down()
        with self._noting_failure():
            return super().connect(*args, **kwargs)

    def send_packed_command(self, *args, **kwargs):
        self._refuse_if_down()
        with self._noting_failure():
            return super().send_packed_command(*args, **kwargs)

    def read_response(self, *args, **kwargs):
        with self._noting_failure():
            return super().read_response(*args, **kwargs)


class MessageQueue(python_socketio.RedisManager):
    """Flask-SocketIO's Redis message queue, publishing through the pool above: while Redis hangs an emit
    is dropped (logged) within TIMEOUT instead of holding up the webhook that emits. Listening (a
    background greenlet) keeps the manager's own connection, which may wait for Redis as long as it takes."""

    def __init__(self, url: str, channel: str):
        super().__init__(url, channel=channel, write_only=False, redis_options={"socket_connect_timeout": TIMEOUT})

    def _publish(self, data):
        try:
            return get_redis(self.redis_url).publish(self.channel, self.json.dumps(data))
        except RedisError as exc:
            self._get_logger().warning("Socket.IO event not published, Redis did not answer: %s", exc)
            return None


def key(*parts) -> str:
    return "tl:" + ":".join(str(p) for p in parts)
