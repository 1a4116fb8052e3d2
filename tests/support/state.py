"""Settings for an app under test, and emptying the database and Redis between tests."""
from __future__ import annotations

import time

import redis
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from textline.accounts.passwords import hash_password
from textline.config import FAKE_AUTH_TOKEN
from textline.models import Base, User

PASSWORD = "a-long-password"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash the shared test password once


def make_user(session, email: str, role: str = "volunteer", **fields) -> User:
    """An account with the shared test password, added and committed through the given session."""
    fields.setdefault("display_name", email.split("@")[0].title())
    user = User(email=email, role=role, password_hash=_HASH, **fields)
    session.add(user)
    session.commit()
    return user


def settings(instance_dir, database_url: str, redis_url: str, base_url: str, **extra) -> dict:
    """Environment-style settings for an app under test (the same shape a real deployment uses)."""
    env = {
        "TEXTLINE_INSTANCE_DIR": str(instance_dir),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": base_url,
        "SECRET_KEY": "test-secret",
        "PHONE_HASH_KEY": "test-phone-key",
        "FAKE_TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def reset_database(engine, attempts: int = 5) -> None:
    """Empty every table. On PostgreSQL, TRUNCATE can deadlock with a worker still finishing the previous
    test's task (it waits for every table's lock): PostgreSQL aborts one side, and we try again."""
    for attempt in range(attempts):
        try:
            return _reset_database(engine)
        except OperationalError as exc:
            if "deadlock" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _reset_database(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def reset_redis(url: str) -> None:
    """Only Textline's keys: a running Celery worker keeps its queue bindings in the same Redis."""
    r = redis.Redis.from_url(url)
    keys = list(r.scan_iter(match="tl:*", count=1000))
    if keys:
        r.delete(*keys)
