"""Reading the adults' duty forms: one error type that names the field, and times typed in the line's
timezone (data/hours.yaml), which is what adults on shift read on the wall clock."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from textline.models import utcnow
from textline.safety.hours import load_schedule

TIME_FORMAT = "%Y-%m-%dT%H:%M"  # an <input type="datetime-local">
# A time more than this far ahead is a typo (a wrong day), not a plan.
FUTURE_SLACK = timedelta(minutes=10)


class DutyError(ValueError):
    """A form that cannot be saved, with a message fit to show next to `field`."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def line_tz() -> ZoneInfo:
    return load_schedule().tz


def text(form, name: str, limit: int, required: str | None = None) -> str | None:
    """A trimmed text field; `required` is the message when it is missing."""
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        raise DutyError(f"At most {limit} characters here ({len(value)} given).", name)
    if not value and required:
        raise DutyError(required, name)
    return value or None


def when(form, name: str, now: datetime | None = None) -> datetime:
    """A time from the form in the line's timezone (empty = now), never in the future."""
    now = now or utcnow()
    raw = (form.get(name) or "").strip()
    if not raw:
        return now
    try:
        at = datetime.strptime(raw, TIME_FORMAT).replace(tzinfo=line_tz()).astimezone(now.tzinfo)
    except ValueError:
        raise DutyError("Give the date and time like 2026-12-03T18:30.", name) from None
    if at > now + FUTURE_SLACK:
        raise DutyError("That time is in the future.", name)
    return at


def local_input(at: datetime | None) -> str:
    """A stored time as the form shows it."""
    return at.astimezone(line_tz()).strftime(TIME_FORMAT) if at else ""
