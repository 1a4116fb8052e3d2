"""A volunteer's pause: for a few minutes no new texters are offered to them or claimable by them.

One Redis key per paused volunteer, expiring on its own when the pause is over. The claim's Lua script
(textline/texting/queue.py) checks the same key in the step that takes the texter, so a claim racing a
pause cannot slip through. Pressing "I'm ready to go on" deletes it.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from textline.redis_store import get_redis, key

# Why a volunteer is paused: the words the volunteer and the adults read.
REASONS = {
    "high_risk": "After a high-risk conversation",
    "escalation": "After a conversation that needed an adult",
    "taken_over": "An adult took over a conversation",
    "moment": "Asked for a moment",
}


def pause_key(volunteer_id: int) -> str:
    return key("pause", volunteer_id)


def start(volunteer_id: int, reason: str, minutes: int, conversation_id: int | None = None,
          now: datetime | None = None) -> dict | None:
    """Pause a volunteer for `minutes` (0 = pauses are switched off). A new pause replaces a running one
    and runs for the full time again. Returns the pause."""
    if minutes <= 0:
        return None
    now = now or datetime.now(timezone.utc)
    pause = {"reason": reason, "reason_text": REASONS.get(reason, reason), "conversation_id": conversation_id,
             "since": now.isoformat(), "until": (now + timedelta(minutes=minutes)).isoformat()}
    get_redis().set(pause_key(volunteer_id), json.dumps(pause), ex=int(minutes * 60))
    return pause


def end(volunteer_id: int) -> bool:
    """The volunteer chose to go on (or went off shift). Returns whether a pause was running."""
    return bool(get_redis().delete(pause_key(volunteer_id)))


def current(volunteer_id: int) -> dict | None:
    raw = get_redis().get(pause_key(volunteer_id))
    return json.loads(raw) if raw else None


def current_for(volunteer_ids: list[int]) -> dict[int, dict | None]:
    if not volunteer_ids:
        return {}
    raws = get_redis().mget([pause_key(v) for v in volunteer_ids])
    return {v: (json.loads(r) if r else None) for v, r in zip(volunteer_ids, raws)}
