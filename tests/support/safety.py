"""Helpers for the safety tests: schedule files and reading what Twilio received."""
from __future__ import annotations

from pathlib import Path

# Open only on one evening far in the future: closed at any hour a test runs.
CLOSED_SCHEDULE = """\
timezone: America/Los_Angeles
label: Pacific
special_openings:
  - date: 2099-01-01
    open: "18:00"
    close: "22:00"
"""
ALWAYS_OPEN = "timezone: America/Los_Angeles\nalways_open: true\n"


def write_hours(path: Path, text: str) -> Path:
    """Replace a schedule file so a reader notices: the size changes or the mtime moves on."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def bodies(messages) -> list[str]:
    return [m.body for m in messages]
