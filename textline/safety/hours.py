"""When the line is staffed, and how to tell a texter when it next opens.

Hours are wall-clock windows in one timezone (America/Los_Angeles for us), so
"18:00" means 6 PM local on both sides of a DST change. Comparisons are done in
UTC because Python compares aware datetimes that share a tzinfo by wall time,
which goes wrong in the repeated hour when clocks fall back.

Rules:
  - A window whose close is at or before its open runs past midnight (22:00-02:00).
  - A closed date means no window *starts* that day; a window that began the
    evening before still runs to its close.
  - Special openings replace the weekly windows on their date.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "hours.yaml"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
_TZ_LABELS = {
    "America/Los_Angeles": "Pacific",
    "America/Denver": "Mountain",
    "America/Phoenix": "Mountain",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
}
# The same zones as a Spanish text names them ("a las 6 p. m., hora del Pacífico").
_TZ_LABELS_ES = {
    "America/Los_Angeles": "hora del Pacífico",
    "America/Denver": "hora de la Montaña",
    "America/Phoenix": "hora de la Montaña",
    "America/Chicago": "hora del Centro",
    "America/New_York": "hora del Este",
    "America/Anchorage": "hora de Alaska",
    "Pacific/Honolulu": "hora de Hawái",
}
# How a next opening is said, per language of the text it goes in (the texter's: textline/texting/wording.py).
# Spanish as a US Spanish-speaking teen reads it: lower-case day and month names, "p. m.", "a la 1".
_SAY = {
    "en": {"now": "now", "soon": "soon", "today": "today", "tonight": "tonight", "tomorrow": "tomorrow",
           "days": DAY_NAMES, "months": _MONTHS, "date": "{day}, {month} {n}", "at": "{when} at {clock} {label}",
           "noon": "noon", "midnight": "midnight", "am": "AM", "pm": "PM"},
    "es": {"now": "ahora", "soon": "pronto", "today": "hoy", "tonight": "esta noche", "tomorrow": "mañana",
           "days": ("el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado", "el domingo"),
           "months": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                      "octubre", "noviembre", "diciembre"),
           "date": "{day} {n} de {month}", "at": "{when} {clock} ({label})",
           "noon": "al mediodía", "midnight": "a la medianoche", "am": "a. m.", "pm": "p. m."},
}
_KEYS = {"timezone", "label", "label_es", "always_open", "weekly", "closed_dates", "special_openings"}
_ONE_DAY = timedelta(days=1)


class ScheduleError(ValueError):
    """The schedule data is malformed or contradicts itself."""


@dataclass(frozen=True)
class Window:
    open: time
    close: time  # at or before `open` means the next day

    def __str__(self) -> str:
        return f"{self.open:%H:%M}-{self.close:%H:%M}"

    def wall_interval(self, day: date) -> tuple[datetime, datetime]:
        """Naive local start/end for this window starting on `day`."""
        end_day = day + _ONE_DAY if self.close <= self.open else day
        return datetime.combine(day, self.open), datetime.combine(end_day, self.close)


class Schedule:
    def __init__(self, tz: str, weekly: dict[int, list[Window]] | None = None,
                 closed: dict[date, str] | None = None,
                 special: dict[date, list[Window]] | None = None,
                 label: str | None = None, always_open: bool = False, label_es: str | None = None):
        try:
            self.tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ScheduleError(f"unknown timezone {tz!r}; use an IANA name like 'America/Los_Angeles'") from None
        self.label = label or _TZ_LABELS.get(tz)
        self.labels = {"en": self.label, "es": label_es or _TZ_LABELS_ES.get(tz) or self.label}
        self.always = always_open
        self.weekly = {d: sorted((weekly or {}).get(d, []), key=lambda w: w.open) for d in range(7)}
        self.closed = dict(closed or {})
        self.special = {d: sorted(ws, key=lambda w: w.open) for d, ws in (special or {}).items()}
        self._validate()

    # -- construction -------------------------------------------------------

    @classmethod
    def always_open(cls, tz: str = "America/Los_Angeles", label: str | None = None,
                    label_es: str | None = None) -> "Schedule":
        """A 24/7 schedule, for demos and development."""
        return cls(tz, label=label, always_open=True, label_es=label_es)

    @classmethod
    def from_dict(cls, d: dict) -> "Schedule":
        if not isinstance(d, dict):
            raise ScheduleError("schedule must be a mapping")
        unknown = set(d) - _KEYS
        if unknown:
            raise ScheduleError(f"unknown schedule key(s) {sorted(unknown)}; expected {sorted(_KEYS)}")
        tz = d.get("timezone")
        if not isinstance(tz, str) or not tz:
            raise ScheduleError("schedule needs a 'timezone', e.g. America/Los_Angeles")
        label, label_es = d.get("label"), d.get("label_es")
        if d.get("always_open"):
            if d.get("weekly") or d.get("special_openings") or d.get("closed_dates"):
                raise ScheduleError("always_open cannot be combined with weekly, closed_dates or special_openings")
            return cls.always_open(tz, label, label_es)

        weekly: dict[int, list[Window]] = {}
        for n, entry in enumerate(_as_list(d.get("weekly"), "weekly")):
            where = f"weekly entry {n + 1}"
            _require_mapping(entry, where, {"days", "open", "close"})
            window = _window(entry, where)
            for day in _days(entry.get("days"), where):
                weekly.setdefault(day, []).append(window)

        closed: dict[date, str] = {}
        for n, entry in enumerate(_as_list(d.get("closed_dates"), "closed_dates")):
            where = f"closed_dates entry {n + 1}"
            if isinstance(entry, dict):
                _require_mapping(entry, where, {"date", "reason"})
                closed[_date(entry.get("date"), where)] = str(entry.get("reason") or "")
            else:
                closed[_date(entry, where)] = ""

        special: dict[date, list[Window]] = {}
        for n, entry in enumerate(_as_list(d.get("special_openings"), "special_openings")):
            where = f"special_openings entry {n + 1}"
            _require_mapping(entry, where, {"date", "open", "close"})
            special.setdefault(_date(entry.get("date"), where), []).append(_window(entry, where))

        return cls(tz, weekly, closed, special, label, label_es=label_es)

    def _validate(self) -> None:
        if self.always:
            return
        if not any(self.weekly.values()) and not self.special:
            raise ScheduleError("schedule has no opening hours; add a weekly window (or use always_open)")
        both = sorted(set(self.closed) & set(self.special))
        if both:
            raise ScheduleError(f"{both[0].isoformat()} is listed as both closed and a special opening")
        # Windows are under 24h, so overlaps can only involve neighbouring days:
        # one reference week (plus the Monday after) covers every weekly pair.
        monday = date(2024, 1, 1)
        _check_overlaps([(monday + timedelta(days=i), w) for i in range(8)
                         for w in self.weekly[(monday + timedelta(days=i)).weekday()]])
        for day in self.special:
            _check_overlaps([(day + timedelta(days=i), w) for i in (-1, 0, 1)
                             for w in self._windows_starting(day + timedelta(days=i))], dated=True)

    # -- queries ------------------------------------------------------------

    def _windows_starting(self, day: date) -> list[Window]:
        if day in self.closed:
            return []
        if day in self.special:
            return self.special[day]
        return self.weekly[day.weekday()]

    def _utc_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        out = []
        for window in self._windows_starting(day):
            start, end = window.wall_interval(day)
            # Wall times that fall in a DST gap are read with the pre-change offset
            # (fold=0), i.e. pushed an hour later: a 02:30 opening on spring-forward
            # day starts at 03:30.
            start = start.replace(tzinfo=self.tz).astimezone(timezone.utc)
            end = end.replace(tzinfo=self.tz).astimezone(timezone.utc)
            if end > start:  # a tiny window can vanish entirely in the spring-forward gap
                out.append((start, end))
        return out

    def _to_utc(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("`at` must be a timezone-aware datetime")
        return at.astimezone(timezone.utc)

    def is_open(self, at: datetime) -> bool:
        at_utc = self._to_utc(at)
        if self.always:
            return True
        today = at_utc.astimezone(self.tz).date()
        return any(start <= at_utc < end
                   for day in (today - _ONE_DAY, today)
                   for start, end in self._utc_intervals(day))

    def next_opening(self, at: datetime) -> datetime | None:
        """Earliest moment at or after `at` when the line is open, in the schedule's timezone.

        Returns `at` itself (converted) if the line is open then, and None if no
        opening is scheduled at all (only possible with special openings alone).
        """
        at_utc = self._to_utc(at)
        if self.always:
            return at_utc.astimezone(self.tz)
        today = at_utc.astimezone(self.tz).date()
        # Past the last irregular date, the weekly pattern must produce a window within a week.
        horizon = max([today, *self.closed, *self.special]) + timedelta(days=8)
        best, found_on = None, None
        day = today - _ONE_DAY
        while day <= horizon:
            for start, end in self._utc_intervals(day):
                if end > at_utc and (best is None or max(start, at_utc) < best):
                    best, found_on = max(start, at_utc), found_on or day
            # Look one day past the first hit in case DST made neighbouring windows overlap.
            if found_on is not None and day > found_on:
                break
            day += _ONE_DAY
        return best.astimezone(self.tz) if best else None

    def describe_next_opening(self, at: datetime, language: str = "en") -> str:
        """Short SMS-ready text: "now", "tonight at 6 PM Pacific", "Monday at 6 PM Pacific"; in Spanish
        "hoy a las 6 p. m. (hora del Pacífico)". An unknown language is said in English."""
        say = _SAY.get(language, _SAY["en"])
        opening = self.next_opening(at)
        if opening is None:
            return say["soon"]
        if self.is_open(at):
            return say["now"]
        local_now = self._to_utc(at).astimezone(self.tz)
        days = (opening.date() - local_now.date()).days
        if days == 0:
            when = say["tonight"] if opening.hour >= 17 and language == "en" else say["today"]
        elif days == 1 and opening.hour < 5 and local_now.hour >= 12:
            when = say["tonight"]  # from the afternoon on, "tomorrow at 12:30 AM" reads as a day later
        elif days == 1:
            when = say["tomorrow"]
        elif days < 7:
            when = say["days"][opening.weekday()]
        else:
            when = say["date"].format(day=say["days"][opening.weekday()], month=say["months"][opening.month - 1],
                                      n=opening.day)
        label = self.labels.get(language, self.label) or opening.tzname()
        return say["at"].format(when=when, clock=_clock(opening, say), label=label)


def load_schedule(path: str | Path | None = None) -> Schedule:
    path = Path(path or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"cannot read schedule file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{path}: invalid YAML: {exc}") from exc
    try:
        return Schedule.from_dict(data)
    except ScheduleError as exc:
        raise ScheduleError(f"{path}: {exc}") from None


# -- parsing helpers ----------------------------------------------------------

def _clock(t: datetime, say: dict = _SAY["en"]) -> str:
    """ "6 PM", "6:30 AM", "noon"; in Spanish with its article: "a las 6 p. m.", "a la 1 p. m."."""
    if (t.hour, t.minute) == (12, 0):
        return say["noon"]
    if (t.hour, t.minute) == (0, 0):
        return say["midnight"]
    hour = t.hour % 12 or 12
    minutes = f":{t.minute:02d}" if t.minute else ""
    clock = f"{hour}{minutes} {say['am'] if t.hour < 12 else say['pm']}"
    if say is _SAY["en"]:
        return clock
    return f"{'a la' if hour == 1 else 'a las'} {clock}"


def _as_list(value, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScheduleError(f"{name!r} must be a list")
    return value


def _require_mapping(entry, where: str, allowed: set[str]) -> None:
    if not isinstance(entry, dict):
        raise ScheduleError(f"{where}: must be a mapping with keys {sorted(allowed)}")
    unknown = set(entry) - allowed
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {sorted(unknown)}")


def _time(value, where: str) -> time:
    if isinstance(value, int):  # YAML 1.1 reads unquoted 18:00 as the number 1080
        raise ScheduleError(f"{where}: write times as quoted strings like \"18:00\" (got the number {value})")
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value or "").strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ScheduleError(f"{where}: bad time {value!r}; use 24-hour \"HH:MM\" from 00:00 to 23:59")
    return time(int(m[1]), int(m[2]))


def _window(entry: dict, where: str) -> Window:
    window = Window(_time(entry.get("open"), f"{where} open"), _time(entry.get("close"), f"{where} close"))
    if window.open == window.close:
        raise ScheduleError(f"{where}: open and close are both {window.open:%H:%M}; "
                            "for a 24-hour line use always_open: true")
    return window


def _days(value, where: str) -> list[int]:
    if isinstance(value, str) and value.strip().lower() == "daily":
        return list(range(7))
    if not isinstance(value, list) or not value:
        raise ScheduleError(f"{where}: 'days' must be 'daily' or a list like [mon, tue]")
    lookup = {n.lower(): i for i, day in enumerate(DAY_NAMES) for n in (day, day[:3])}
    days = []
    for name in value:
        if str(name).strip().lower() not in lookup:
            raise ScheduleError(f"{where}: unknown day {name!r}; use mon..sun or full names")
        days.append(lookup[str(name).strip().lower()])
    return days


def _date(value, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScheduleError(f"{where}: bad date {value!r}; use YYYY-MM-DD") from None


def _check_overlaps(windows: list[tuple[date, Window]], dated: bool = False) -> None:
    def name(day: date, w: Window) -> str:
        return f"{day.isoformat() if dated else DAY_NAMES[day.weekday()]} {w}"

    intervals = sorted(((*w.wall_interval(day), day, w) for day, w in windows), key=lambda i: i[0])
    for (_, prev_end, prev_day, prev), (start, _, day, w) in zip(intervals, intervals[1:]):
        if start < prev_end:
            raise ScheduleError(f"overlapping hours: {name(prev_day, prev)} and {name(day, w)}")
