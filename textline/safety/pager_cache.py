"""The paging rota mirrored into Redis, so a high-risk text can page an adult while SQL is down.

refresh() reads the adults with a pager phone from SQL (escalation.rota_query(), in paging order) and
writes them here. Each escalation sweep (every ESCALATION_SWEEP_SECONDS) refreshes it, so the mirror
follows a changed number, role, deactivation or shift within one sweep. The key has no TTL: an outage of
any length still finds the last rota SQL gave. Only the spool's pager (textline/safety/spool_pages.py)
reads it.

Newest read wins: sweeps in several processes overlap, and a slow one that read SQL before an adult was
added could otherwise write its older rota over a newer one (and nobody be paged until the next sweep).
Each read is stamped with Redis's clock (one clock for every process) taken before the SQL read, on a
connection of its own so its snapshot is no older than the stamp, and a Lua script keeps the write only
if its stamp is newer than the stored one.

Privacy: adults' numbers, never texters'. The key is Textline's own (tl: prefix); nothing puts it in a
payload, a log line or a page, and it is overwritten whole, so a number taken off the rota leaves it
at the next sweep.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from redis.exceptions import RedisError

from textline.redis_store import get_redis, key

KEY = key("pagers", "rota")  # hash: read_at (Redis time in µs when SQL was read), rota (JSON list)
log = logging.getLogger(__name__)

# Returns 1 if the rota was written, 0 if a read at least as new was already there.
_WRITE_IF_NEWER = """
local stored = redis.call('HGET', KEYS[1], 'read_at')
if stored and tonumber(stored) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'read_at', ARGV[1], 'rota', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Pager:
    user_id: int
    name: str
    phone: str


def refresh(engine, rota_query) -> bool:
    """Read the rota from SQL and mirror it unless a newer read is already mirrored. Returns whether it
    was written. Redis trouble is logged and skipped (best effort); SQL errors propagate to the sweep."""
    redis = get_redis()
    try:
        seconds, micros = redis.time()
    except RedisError as exc:
        log.debug("pager rota not mirrored: %s", exc)
        return False
    with engine.connect() as conn:  # a fresh transaction: its snapshot starts after the stamp
        rows = conn.execute(rota_query).all()
    value = json.dumps([asdict(Pager(r.id, r.display_name, r.pager_phone)) for r in rows], separators=(",", ":"))
    try:
        return bool(redis.eval(_WRITE_IF_NEWER, 1, KEY, seconds * 1_000_000 + micros, value))
    except RedisError as exc:
        log.debug("pager rota not mirrored: %s", exc)
        return False


def cached() -> list[Pager]:
    """The last rota SQL gave, in paging order ([] if none was mirrored or Redis does not answer)."""
    try:
        raw = get_redis().hget(KEY, "rota")
    except RedisError:
        return []
    return [Pager(**item) for item in json.loads(raw)] if raw else []
