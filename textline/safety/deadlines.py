"""When a timed escalation is due: a wait or a silence, measured from the start of its episode.

Used by the escalation sweep, and by payloads.alert to show supervisors when an alert was due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app

from textline.models import Escalation


def seconds(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def episode_at(at: datetime) -> str:
    """A moment as an episode key: the same moment always gives the same key."""
    return str(int(at.timestamp() * 1000))


# The timed escalations: how long after the start of its episode each is due.
DEADLINE_SETTINGS = {"wait": "ESCALATE_WAIT_SECONDS", "no_reply": "ESCALATE_NO_REPLY_SECONDS"}


def due_at(esc: Escalation) -> datetime | None:
    """When a timed escalation was due (its episode's start plus the setting); None for the others,
    which are opened at once. Supervisors and the benchmark compare it with when the alert came."""
    setting = DEADLINE_SETTINGS.get(esc.reason)
    if setting is None or not esc.episode.isdigit():
        return None
    return datetime.fromtimestamp(int(esc.episode) / 1000, timezone.utc) + seconds(setting)
