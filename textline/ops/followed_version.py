"""A version in Redis that every process follows: a decision made in one process (an admin's lexicon edit,
a risk model promoted) bumps it, and each process looks at it at most once every `every` seconds
(monotonic clock) and reloads when it moved. What the reload is, and when it counts as done, is the
caller's (textline/triage/lexicon_edits.py, textline/riskmodels/live.py); so is the lock around it."""
from __future__ import annotations

import time

from redis.exceptions import RedisError

from textline.redis_store import get_redis

UNSET = object()   # no version followed yet: any version read is new
UNREAD = object()  # Redis did not answer: keep what the process has, look again later


class FollowedVersion:
    def __init__(self, redis_key: str, every: float):
        self.redis_key = redis_key
        self.every = every
        self.seen = UNSET             # the version the process follows now (the caller sets it once reloaded)
        self.checked = float("-inf")  # monotonic time of the last look

    def due(self) -> bool:
        """At least `every` seconds since the last look."""
        return time.monotonic() - self.checked >= self.every

    def look(self):
        """Read the version now (the next look is due `every` seconds later): the value in Redis (None if
        nothing was ever announced), or UNREAD if Redis did not answer."""
        self.checked = time.monotonic()
        try:
            return get_redis().get(self.redis_key)
        except RedisError:
            return UNREAD

    def moved(self, version) -> bool:
        """The version read differs from the one followed (UNREAD never counts as moved)."""
        return version is not UNREAD and version != self.seen

    def forget(self) -> None:
        """Look at the next call and reload whatever is there."""
        self.seen, self.checked = UNSET, float("-inf")
