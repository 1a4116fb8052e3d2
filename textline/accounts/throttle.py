"""Slowing down password guessing without handing anyone a way to lock a volunteer out.

- Per address: at most IP_LIMIT sign-in attempts per IP_WINDOW from one client (Flask-Limiter, in Redis,
  in memory while Redis is down). The client is request.remote_addr, which behind the configured number
  of proxies (TEXTLINE_TRUSTED_PROXIES) is the address nginx saw (ProxyFix, in app.py).
- Per (email, client): after FREE_FAILURES wrong passwords, that client must wait before trying that
  email again, twice as long after each further failure (FIRST_WAIT, up to MAX_WAIT). Someone else's
  guesses never stop the volunteer signing in from their own computer, and an unknown email is treated
  exactly like a known one, so the answers tell nothing about which accounts exist.
- An admin can see the waits and lift them (Admin → Sign-in waits).
"""
from __future__ import annotations

import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.exceptions import RedisError

from textline.redis_store import get_redis, key

IP_LIMIT, IP_WINDOW = 30, 600       # sign-in attempts per address per 10 minutes
FREE_FAILURES = 3                   # wrong passwords from one client for one email before any wait
FIRST_WAIT, MAX_WAIT = 2, 15 * 60   # seconds: then 4, 8, ... up to 15 minutes
FORGET_AFTER = 24 * 3600            # a client's failures for an email are forgotten after a quiet day

limiter = Limiter(key_func=get_remote_address, key_prefix="login")


def init_app(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    # Its keys live with Textline's (tl:...); while Redis is down the limits are kept in memory.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"key_prefix": key("limits"), "socket_timeout": 2,
                                                         "socket_connect_timeout": 1})
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)


def per_address():
    """The decorator for the sign-in view: counts POSTs only."""
    return limiter.limit(f"{IP_LIMIT} per {IP_WINDOW} seconds", methods=["POST"])


def client() -> str:
    return request.remote_addr or "?"


def _key(email: str, client_addr: str) -> str:
    return key("login", "wait", client_addr, email)


def wait_after(failures: int) -> int:
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_WAIT, FIRST_WAIT * 2 ** (failures - FREE_FAILURES))


def seconds_to_wait(email: str, client_addr: str) -> int:
    """How long this client must still wait before trying this email again (0: go ahead)."""
    try:
        until = get_redis().hget(_key(email, client_addr), "until")
    except RedisError:  # the per-address limit (in memory now) and argon2's cost still slow guessing
        current_app.logger.warning("sign-in waits unavailable: Redis is down")
        return 0
    return max(0, int(float(until or 0) - time.time() + 0.999))


def failed(email: str, client_addr: str) -> int:
    """A wrong password (or an unknown email: the same). Returns the wait it now imposes."""
    k = _key(email, client_addr)
    try:
        r = get_redis()
        failures = r.hincrby(k, "failures", 1)
        wait = wait_after(failures)
        r.hset(k, mapping={"email": email, "client": client_addr, "until": time.time() + wait,
                           "last": time.time()})
        r.expire(k, FORGET_AFTER)
    except RedisError:
        return 0
    return wait


def succeeded(email: str, client_addr: str) -> None:
    try:
        get_redis().delete(_key(email, client_addr))
    except RedisError:
        pass


def current() -> list[dict]:
    """Every (email, client) with failures on record, the longest wait first, for the admin page."""
    r, now, rows = get_redis(), time.time(), []
    for k in r.scan_iter(match=key("login", "wait") + ":*", count=500):
        data = r.hgetall(k)
        if data:
            rows.append({"email": data.get("email", ""), "client": data.get("client", ""),
                         "failures": int(data.get("failures", 0)),
                         "wait": max(0, int(float(data.get("until", 0)) - now + 0.999))})
    return sorted(rows, key=lambda row: (-row["wait"], row["email"], row["client"]))


def lift(email: str, client_addr: str | None = None) -> int:
    """Forget the failures for this email (from one client, or from all). Returns how many were lifted."""
    r = get_redis()
    names = ([_key(email, client_addr)] if client_addr else
             [k for k in r.scan_iter(match=key("login", "wait") + ":*", count=500)
              if r.hget(k, "email") == email])
    return r.delete(*names) if names else 0
