"""The paging rota mirrored into Redis, so a high-risk text can page an adult while SQL is down.

escalation.rota() reads the adults with a pager phone from SQL, in paging order; every read (each
escalation sweep, every ESCALATION_SWEEP_SECONDS, and each page lookup) writes what it read here, so
the mirror follows a changed number, role, deactivation or shift within one sweep. The key has no TTL:
an outage of any length still finds the last rota SQL gave. Only the spool's pager
(textline/safety/spool_pages.py) reads it.

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

KEY = key("pagers", "rota")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pager:
    user_id: int
    name: str
    phone: str


def mirror(advisors) -> None:
    """Write the rota just read from SQL (User rows, in paging order). Best effort: Redis may be down."""
    value = json.dumps([asdict(Pager(u.id, u.display_name, u.pager_phone)) for u in advisors],
                       separators=(",", ":"))
    try:
        get_redis().set(KEY, value)
    except RedisError as exc:
        log.debug("pager rota not mirrored: %s", exc)


def cached() -> list[Pager]:
    """The last rota SQL gave, in paging order ([] if none was mirrored or Redis does not answer)."""
    try:
        raw = get_redis().get(KEY)
    except RedisError:
        return []
    return [Pager(**item) for item in json.loads(raw)] if raw else []
