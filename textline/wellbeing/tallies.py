"""What a volunteer has carried this shift: conversations taken, hard ones (those that brought a pause),
high-risk ones, and when they last paused. A Redis hash per volunteer, emptied when a shift starts;
the claim's Lua script counts claims in the same step that takes the texter."""
from __future__ import annotations

from datetime import datetime, timezone

from textline.redis_store import get_redis, key

CONVERSATIONS, HARD, HIGH, LAST_PAUSE = "conversations", "hard", "high", "last_pause_at"
# Past a shift, kept long enough for the check-out and the adults to read it; the next shift empties it.
KEEP_SECONDS = 2 * 24 * 3600


def tally_key(volunteer_id: int) -> str:
    return key("shift_tally", volunteer_id)


def reset(volunteer_id: int) -> None:
    get_redis().delete(tally_key(volunteer_id))


def hard_conversation(volunteer_id: int, high_risk: bool) -> None:
    r = get_redis()
    pipe = r.pipeline(transaction=True)
    pipe.hincrby(tally_key(volunteer_id), HARD, 1)
    if high_risk:
        pipe.hincrby(tally_key(volunteer_id), HIGH, 1)
    pipe.expire(tally_key(volunteer_id), KEEP_SECONDS)
    pipe.execute()


def paused(volunteer_id: int, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    get_redis().hset(tally_key(volunteer_id), LAST_PAUSE, now.isoformat())


def read(volunteer_id: int) -> dict:
    return read_many([volunteer_id])[volunteer_id]


def read_many(volunteer_ids: list[int]) -> dict[int, dict]:
    """volunteer id -> {"conversations": n, "hard": n, "high": n, "last_pause_at": iso or None}."""
    if not volunteer_ids:
        return {}
    pipe = get_redis().pipeline(transaction=False)
    for vid in volunteer_ids:
        pipe.hgetall(tally_key(vid))
    out = {}
    for vid, raw in zip(volunteer_ids, pipe.execute()):
        out[vid] = {CONVERSATIONS: int(raw.get(CONVERSATIONS, 0)), HARD: int(raw.get(HARD, 0)),
                    HIGH: int(raw.get(HIGH, 0)), LAST_PAUSE: raw.get(LAST_PAUSE)}
    return out
