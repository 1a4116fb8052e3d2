"""Floods: a texter writing faster than FLOOD_RATE (e.g. "10 per minute") is throttled in the queue.

Nothing is dropped: every text is stored, scored and shown in the transcript as usual, and risk still
raises the conversation's priority and escalates. What a flood no longer does is re-announce its queue
row to every console on each text, or draw a keyword's automatic reply (HELP) again and again; and the
volunteer holding the conversation (or, while it waits, the adults) gets one notice per flood.

The counting is the `limits` library (the one under Flask-Limiter, which the sign-in throttle already
uses) with its Redis storage on Textline's own connection pool: a moving window, so a burst that
straddles a minute boundary is still seen. Flask-Limiter itself does not fit: it limits HTTP requests
by client address, and every webhook comes from Twilio; here the key is the texter's key (the HMAC of
their number), counted inside the inbound path. When Redis does not answer nobody is throttled.
"""
from __future__ import annotations

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from textline.redis_store import get_redis, key

_limiters: dict[str, MovingWindowRateLimiter] = {}


def rate(text: str) -> RateLimitItem:
    """FLOOD_RATE parsed ("10 per minute", "20/2 minutes"); ValueError for anything else (checked at start)."""
    return parse(text)


def _limiter() -> MovingWindowRateLimiter:
    url = current_app.config["REDIS_URL"]
    limiter = _limiters.get(url)
    if limiter is None:
        storage = RedisStorage(url, connection_pool=get_redis(url).connection_pool, key_prefix=key("flood"))
        limiter = _limiters[url] = MovingWindowRateLimiter(storage)
    return limiter


def flooding(texter_key: str) -> bool:
    """Count one text from this texter; True if it is over the rate. Called before the inbound transaction
    (a Redis call must not hold SQLite's write lock)."""
    setting = current_app.config["FLOOD_RATE"]
    if not setting:
        return False
    try:
        return not _limiter().hit(rate(setting), texter_key)
    except RedisError:
        return False


def first_notice(texter_key: str) -> bool:
    """True once per flood (until a window passes without one): who should hear about it hears once."""
    window = rate(current_app.config["FLOOD_RATE"]).get_expiry()
    try:
        return bool(get_redis().set(key("flood", "told", texter_key), "1", nx=True, ex=window))
    except RedisError:
        return True  # better one notice too many than a flood nobody hears of
