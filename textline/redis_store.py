"""One Redis connection pool per process, and the key names Textline uses."""
from __future__ import annotations

import redis
from flask import current_app

_pools: dict[str, redis.ConnectionPool] = {}


def get_redis(url: str | None = None) -> redis.Redis:
    url = url or current_app.config["REDIS_URL"]
    pool = _pools.get(url)
    if pool is None:
        # Short timeouts: a Redis outage must not hang a webhook that SQL can still answer.
        pool = _pools[url] = redis.ConnectionPool.from_url(
            url, decode_responses=True, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
        )
    return redis.Redis(connection_pool=pool)


def key(*parts) -> str:
    return "tl:" + ":".join(str(p) for p in parts)
