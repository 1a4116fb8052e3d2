"""Who is connected, and shifts.

Each console socket is a Redis key with a TTL that the console's heartbeat refreshes, so a web
process that dies without running its disconnect handlers cannot leave a ghost volunteer behind.
When a volunteer holding conversations has no socket left, an "away" mark starts a grace period;
the beat sweep (textline/accounts/shifts.py) hands their conversations back to the queue after it.
"""
from __future__ import annotations

import time

from flask import current_app

from textline.redis_store import get_redis, key



def socket_ttl() -> int:
    """Seconds a console socket counts as present without a heartbeat (consoles beat every ttl/3)."""
    return current_app.config["PRESENCE_TTL_SECONDS"]


def _socket_key(user_id: int, sid: str) -> str:
    return key("sock", user_id, sid)


def _away_key(user_id: int) -> str:
    return key("away", user_id)


def connected(user_id: int, sid: str) -> None:
    r = get_redis()
    r.set(_socket_key(user_id, sid), int(time.time()), ex=socket_ttl())
    r.delete(_away_key(user_id))


def heartbeat(user_id: int, sid: str) -> None:
    get_redis().set(_socket_key(user_id, sid), int(time.time()), ex=socket_ttl())


def disconnected(user_id: int, sid: str) -> None:
    r = get_redis()
    r.delete(_socket_key(user_id, sid))
    if not sids(user_id):
        r.set(_away_key(user_id), time.time(), nx=True)


def sids(user_id: int) -> list[str]:
    prefix = _socket_key(user_id, "")
    return [k[len(prefix):] for k in get_redis().scan_iter(match=prefix + "*", count=200)]


def is_present(user_id: int) -> bool:
    return bool(sids(user_id))


def present_among(user_ids) -> set[int]:
    """Which of these users have a console open now: one pass over the socket keys, not one per user."""
    wanted, prefix, found = set(user_ids), key("sock") + ":", set()  # socket keys: tl:sock:<user id>:<sid>
    if not wanted:
        return found
    for name in get_redis().scan_iter(match=prefix + "*", count=500):
        uid = name[len(prefix):].split(":", 1)[0]
        if uid.isdigit() and int(uid) in wanted:
            found.add(int(uid))
    return found


def away_for(user_id: int, now: float | None = None) -> float | None:
    """Seconds since the volunteer's last socket went away (None while connected).

    Starts the clock if nobody did (their web process died without a disconnect)."""
    if is_present(user_id):
        get_redis().delete(_away_key(user_id))
        return None
    now = now or time.time()
    r = get_redis()
    r.set(_away_key(user_id), now, nx=True)
    return now - float(r.get(_away_key(user_id)))


def grace_seconds() -> int:
    return current_app.config["PRESENCE_GRACE_SECONDS"]


def for_each_socket(user_id: int, action) -> None:
    """Apply action(sid) to every console socket of a user, on whichever web process it lives."""
    for sid in sids(user_id):
        action(sid)
