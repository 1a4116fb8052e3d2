"""The line's configured hours (the HOURS setting), read through textline/safety/hours.py.

HOURS is "always" (open 24/7: the demo/dev default, so a demo works at any hour), "default" (the bundled
evening schedule in data/hours.yaml: the production default) or the path of a schedule file. A file is
re-read when it changes, so advisors can add a closed date without restarting anything.
"""
from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

from flask import current_app

from textline.models import utcnow
from textline.safety.hours import DEFAULT_PATH, Schedule, ScheduleError, load_schedule

_lock = threading.Lock()
_files: dict[str, tuple[tuple, Schedule]] = {}   # path -> ((mtime, size), schedule)
_last_good: dict[str, Schedule] = {}              # HOURS value -> the last schedule it gave


def schedule_for(setting: str) -> Schedule:
    """The schedule an HOURS value names. Raises ScheduleError with a clear message for a bad value."""
    value = (setting or "").strip()
    if value.lower() == "always":
        return Schedule.always_open()
    path = Path(DEFAULT_PATH if value.lower() == "default" else value)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ScheduleError(f"HOURS={value!r}: use 'always', 'default' or the path of a schedule file "
                            f"({exc.strerror}: {path})") from None
    stamp = (st.st_mtime_ns, st.st_size)
    with _lock:
        cached = _files.get(str(path))
    if cached and cached[0] == stamp:
        return cached[1]
    loaded = load_schedule(path)
    with _lock:
        _files[str(path)] = (stamp, loaded)
    return loaded


def schedule() -> Schedule:
    """The configured schedule. A schedule file broken after start-up must not break the webhook (a lost
    text is worse than a wrong auto-reply): keep the last good one, or treat the line as open."""
    setting = current_app.config["HOURS"]
    try:
        found = schedule_for(setting)
    except ScheduleError:
        current_app.logger.exception("HOURS=%r is unusable now; using the last good schedule", setting)
        with _lock:
            return _last_good.get(setting) or Schedule.always_open()
    with _lock:
        _last_good[setting] = found
    return found


def check(setting: str) -> None:
    """Fail at start-up, with the reason, if HOURS names no usable schedule."""
    try:
        schedule_for(setting)
    except ScheduleError as exc:
        raise RuntimeError(f"HOURS setting: {exc}") from None


def is_open(at: datetime | None = None) -> bool:
    return schedule().is_open(at or utcnow())


def next_opening_text(at: datetime | None = None, language: str = "en") -> str:
    """"tonight at 6 PM Pacific" ("hoy a las 6 p. m. (hora del Pacífico)" in Spanish), for texts to the texter."""
    return schedule().describe_next_opening(at or utcnow(), language)
