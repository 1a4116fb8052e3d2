"""Sign-in sessions kept on the server. Volunteers sign in on shared computers at the line, so a
session must really end: at sign-out, after SESSION_IDLE_MINUTES without anything the person did,
and SESSION_MAX_HOURS after sign-in whatever happens.

The cookie carries a random token; SQL keeps its SHA-256 with when it started, was last used and
ended (load_user in auth.py asks `valid` on every request and socket event). Heartbeats are not
use: a console left open on an empty desk times out. The console sockets opened with a session are
listed in Redis, so ending the session disconnects them on whichever web process they are.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, session
from flask_login import current_user
from redis.exceptions import RedisError

from textline import broadcast
from textline.extensions import db
from textline.models import User, UserSession, utcnow
from textline.redis_store import get_redis, key

COOKIE_KEY = "tl_session"
TOUCH_EVERY = timedelta(seconds=60)  # write "last used" at most this often


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sockets_key(token_hash: str) -> str:
    return key("session-sockets", token_hash)


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def max_age() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def start(user: User) -> None:
    """A new session for this sign-in (in the caller's transaction), its token into the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id))
    session[COOKIE_KEY] = token


def _row() -> UserSession | None:
    token = session.get(COOKIE_KEY)
    if not isinstance(token, str):
        return None
    return db.session.query(UserSession).filter_by(token_hash=_hash(token)).one_or_none()


def valid(user: User) -> bool:
    """Is the cookie's session this user's, not ended, used recently and not too old?"""
    row = _row()
    now = utcnow()
    ok = (row is not None and row.user_id == user.id and row.ended_at is None
          and now - row.last_seen_at < idle_limit() and now - row.created_at < max_age())
    g.user_session = row if ok else None
    return ok


def touch() -> None:
    """The person did something (a page, an action in the console): the idle clock starts again."""
    row = g.get("user_session")
    if row is not None and utcnow() - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = utcnow()
        db.session.commit()


def request_started() -> None:
    """Every page or API request of a signed-in person counts as use."""
    if current_user.is_authenticated:
        touch()


def cookie_user_id() -> int | None:
    """The account this browser signed in as, valid or not (Flask-Login keeps "<id>:<version>")."""
    user_id = str(session.get("_user_id") or "").partition(":")[0]
    return int(user_id) if user_id.isdigit() else None


def socket_opened(sid: str) -> None:
    row = g.get("user_session")
    if row is not None:
        r = get_redis()
        r.sadd(_sockets_key(row.token_hash), sid)
        r.expire(_sockets_key(row.token_hash), int(max_age().total_seconds()))


def socket_closed(sid: str) -> None:
    token = session.get(COOKIE_KEY)
    if isinstance(token, str):
        get_redis().srem(_sockets_key(_hash(token)), sid)


def end() -> None:
    """Sign-out: this session stops working now, and its open consoles are disconnected. If Redis is
    down they are refused at their next event and cut at their next heartbeat."""
    row = _row()
    session.pop(COOKIE_KEY, None)
    if row is None:
        return
    row.ended_at = utcnow()
    db.session.commit()
    try:
        sids = get_redis().smembers(_sockets_key(row.token_hash))
        broadcast.disconnect_sockets(sids)
        get_redis().delete(_sockets_key(row.token_hash))
    except RedisError:
        current_app.logger.warning("could not disconnect the sockets of an ended session")
