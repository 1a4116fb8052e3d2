"""Item 5: how late escalations fire against their deadline, under load.

The bench stack runs Celery beat with short timers (bench/stack.py: TIMERS), so during the loaded
inbound-latency runs the texts into claimed conversations that nobody answers, and the conversations
left waiting, escalate. Every supervisor console records each ESCALATION_EVENT with its own wall-clock
time; lateness = received - payload[DUE_FIELD] (the episode's start plus the configured wait, from
textline/safety/escalation.py:due_at). It includes the beat sweep's interval, as in production.
"""
from __future__ import annotations

from datetime import datetime

from bench.stats import latency_summary

ESCALATION_EVENT = "alert"  # Socket.IO event supervisors receive when a conversation escalates
DUE_FIELD = "due_at"        # ISO-8601 UTC time a timed escalation was due (None for immediate ones)


def summarise(events: list[tuple[dict, float]]) -> dict:
    """events: (payload, wall-clock seconds when the supervisor console received it)."""
    first_seen: dict[tuple, float] = {}  # several consoles may receive the same escalation
    for payload, received in events:
        due = payload.get(DUE_FIELD) if isinstance(payload, dict) else None
        if due:
            key = (payload.get("conversation_id"), due)
            first_seen[key] = min(received, first_seen.get(key, received))
    late = [received - datetime.fromisoformat(due).timestamp() for (_, due), received in first_seen.items()]
    # The sweep can only open what is due at its pass: the interval is the floor of the lateness.
    if not late:
        return {"available": False, "reason": f"no {ESCALATION_EVENT!r} event with {DUE_FIELD!r} was seen "
                                              "during the loaded runs (check the names in bench/escalation.py)"}
    return {"available": True, "lateness": latency_summary(late)}
