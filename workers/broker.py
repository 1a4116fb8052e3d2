"""The workers' Redis broker transport: kombu's, with one fix so a worker survives Redis going away.

Why: when Redis drops while a task is running (acked late, so unacknowledged), Celery 5.7 first
`collect()`s the broken connection, which detaches the transport from its connection, and then closes
it. If the channel's first close failed half-way (its pending BRPOP read met the dead socket), the second
close tries to put the unacknowledged task back and builds a new Redis pool from the detached transport:
AttributeError on None, which Celery treats as unrecoverable, and the worker exits. Nothing restarts it in
a bare deployment, so every later text waits. (kombu 5.7.0 / celery 5.7.0.)

The fix: a detached channel reports a connection error instead, which Celery ignores while it
reconnects. Nothing is lost: the task stays in Redis's unacked set and comes back after the visibility
timeout (textline/tasks.py), as for a killed worker; the outbox makes its re-run send nothing twice.
"""
from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


def transport_for(broker_url: str) -> str | None:
    """The transport a worker should use for this broker URL: ours for Redis, kombu's choice otherwise."""
    scheme = broker_url.split("://", 1)[0].lower() if "://" in broker_url else ""
    return f"{__name__}:Transport" if scheme in ("redis", "rediss") else None
