"""Item 5: how late escalations fire against their deadline, under load.

Escalation timers are issue 3, built in parallel. The measurement is wired already: the supervisor
console records every ESCALATION_EVENT it receives during the inbound-latency runs (the loaded part
of the benchmark) with its own wall-clock time, and lateness = received - payload[DUE_FIELD]. When
issue 3 lands, check that these two names match its event and payload; nothing else needs to change.
Until then the table shows "not available yet".
"""
from __future__ import annotations

import importlib.util
from datetime import datetime

from bench.stats import latency_summary

ESCALATION_EVENT = "escalation"  # Socket.IO event supervisors receive when a conversation escalates
DUE_FIELD = "due_at"             # ISO-8601 UTC time the escalation was due


def missing_reason() -> str | None:
    """None when the app has escalation timers; otherwise why this measurement cannot run yet."""
    from workers.celery_app import BEAT_SCHEDULE

    scheduled = any("escalat" in name or "escalat" in entry.get("task", "") for name, entry in BEAT_SCHEDULE.items())
    module = any(importlib.util.find_spec(m) for m in ("textline.escalation", "textline.escalations"))
    if not (scheduled or module):
        return "not available yet: escalation timers are issue 3"
    return None


def summarise(events: list[tuple[dict, float]]) -> dict:
    """events: (payload, wall-clock seconds when the supervisor console received it)."""
    reason = missing_reason()
    if reason:
        return {"available": False, "reason": reason}
    first_seen: dict[tuple, float] = {}  # several consoles may receive the same escalation
    for payload, received in events:
        due = payload.get(DUE_FIELD) if isinstance(payload, dict) else None
        if due:
            key = (payload.get("conversation_id"), due)
            first_seen[key] = min(received, first_seen.get(key, received))
    late = [received - datetime.fromisoformat(due).timestamp() for (_, due), received in first_seen.items()]
    if not late:
        return {"available": False, "reason": f"no {ESCALATION_EVENT!r} event with {DUE_FIELD!r} was seen "
                                              "during the loaded runs (check the names in bench/escalation.py)"}
    return {"available": True, "lateness": latency_summary(late)}
