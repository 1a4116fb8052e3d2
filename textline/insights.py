"""The numbers behind the insights page: how many texted, how long they waited, what it was about,
how helpful they found it. Training conversations never count.

Definitions (shown on the page too):
- A conversation belongs to the local day (the line's timezone, data/hours.yaml) it opened on.
- Wait = claimed_at - queued_at: from when the texter's conversation entered the queue (first text,
  or back at the front after a volunteer vanished) to when a volunteer took it.
- Answered within 5 minutes = claimed within 5 minutes, out of every conversation whose outcome is
  known: claimed, ended unclaimed, or still waiting after 5 minutes. One still waiting under 5
  minutes has not been decided yet and is left out of both numbers.
- Percentiles use the nearest-rank method: p90 is a wait that 90% of claimed conversations did not
  exceed.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from textline.extensions import db
from textline.models import CLOSED, FINAL_FAILURES, WAITING, Conversation, Message, SurveyResponse, utcnow
from textline.survey import SURVEY

ANSWER_TARGET = timedelta(minutes=5)
MAX_DAYS = 366
DEFAULT_DAYS = 7
# Wait-time histogram buckets: (upper bound in seconds, label); the last is open-ended.
WAIT_BUCKETS = ((60, "<1 min"), (120, "1-2 min"), (300, "2-5 min"), (600, "5-10 min"), (1800, "10-30 min"),
                (None, "30+ min"))
SCORES = (1, 2, 3, 4, 5)


class PeriodError(ValueError):
    """A date range that cannot be used, with a message fit to show."""


@dataclass(frozen=True)
class Period:
    first: date          # inclusive, local dates
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.tz).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz).astimezone(timezone.utc)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def parse_period(raw_from: str | None, raw_to: str | None, tz: ZoneInfo, now: datetime | None = None) -> Period:
    """From the page's ?from=YYYY-MM-DD&to=YYYY-MM-DD; by default the last seven days up to today."""
    today = (now or utcnow()).astimezone(tz).date()

    def parse(raw, name, default):
        if raw in (None, ""):
            return default
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise PeriodError(f"The {name} date must look like 2026-03-31.") from None

    last = parse(raw_to, "end", today)
    first = parse(raw_from, "start", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise PeriodError("The start date is after the end date.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"Choose at most {MAX_DAYS} days at a time.")
    return Period(first, last, tz)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None for no values)."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


@dataclass
class ConversationRow:
    id: int
    opened_at: datetime
    queued_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    status: str
    risk_level: str
    disposition: dict | None
    survey_sent: bool = False
    survey_score: int | None = None

    @property
    def wait_seconds(self) -> float | None:
        return (self.claimed_at - self.queued_at).total_seconds() if self.claimed_at else None

    def answered_in_time(self, now: datetime) -> bool | None:
        """True/False once known; None while it is still waiting and under the target."""
        if self.claimed_at is not None:
            return self.claimed_at - self.queued_at <= ANSWER_TARGET
        if self.status == WAITING and now - self.queued_at < ANSWER_TARGET:
            return None
        return False

    def topics(self) -> list[str]:
        raw = (self.disposition or {}).get("topics") or []
        return [str(t) for t in raw if isinstance(t, str) and t.strip()] if isinstance(raw, list) else []

    def outcome(self) -> str | None:
        value = (self.disposition or {}).get("outcome")
        return str(value) if value else None


@dataclass
class Report:
    period: Period
    rows: list[ConversationRow]
    now: datetime
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_hour: list[int] = field(default_factory=list)

    def __post_init__(self):
        local = Counter(r.opened_at.astimezone(self.period.tz).date() for r in self.rows)
        self.per_day = [(d, local.get(d, 0)) for d in self.period.days()]
        hours = Counter(r.opened_at.astimezone(self.period.tz).hour for r in self.rows)
        self.per_hour = [hours.get(h, 0) for h in range(24)]

    def per_hour_rows(self) -> list[tuple[str, int]]:
        return [(f"{h:02d}:00", n) for h, n in enumerate(self.per_hour)]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def waits(self) -> list[float]:
        return sorted(w for w in (r.wait_seconds for r in self.rows) if w is not None)

    def wait_percentiles(self) -> dict[str, float | None]:
        waits = self.waits
        return {f"p{p}": percentile(waits, p) for p in (50, 90, 99)}

    def answered_in_time(self) -> tuple[int, int]:
        """(claimed within 5 minutes, conversations whose outcome is known)."""
        known = [a for a in (r.answered_in_time(self.now) for r in self.rows) if a is not None]
        return sum(known), len(known)

    def unclaimed_closed(self) -> int:
        return sum(1 for r in self.rows if r.claimed_at is None and r.status == CLOSED)

    def still_waiting(self) -> int:
        return sum(1 for r in self.rows if r.status == WAITING)

    def wait_histogram(self) -> list[tuple[str, int]]:
        counts = Counter()
        for wait in self.waits:
            for bound, label in WAIT_BUCKETS:
                if bound is None or wait < bound:
                    counts[label] += 1
                    break
        return [(label, counts.get(label, 0)) for _, label in WAIT_BUCKETS]

    def risk_levels(self) -> list[tuple[str, int]]:
        counts = Counter(r.risk_level for r in self.rows)
        return [(level, counts.get(level, 0)) for level in ("high", "medium", "low", "none")]

    def topics(self) -> list[tuple[str, int]]:
        return Counter(t for r in self.rows for t in r.topics()).most_common()

    def outcomes(self) -> list[tuple[str, int]]:
        return Counter(o for r in self.rows if (o := r.outcome())).most_common()

    def survey(self) -> dict:
        scores = [r.survey_score for r in self.rows if r.survey_score is not None]
        sent = sum(1 for r in self.rows if r.survey_sent)
        counts = Counter(scores)
        return {"sent": sent, "answered": len(scores),
                "mean": round(sum(scores) / len(scores), 2) if scores else None,
                "distribution": [(s, counts.get(s, 0)) for s in SCORES]}

    def escalations(self) -> dict | None:
        """Escalations and how fast an adult responded. Recorded by issue 3's escalation model, which
        is not on this branch: until it is, there is nothing to count and the page says so."""
        return None


def build_report(period: Period, now: datetime | None = None) -> Report:
    in_period = (Conversation.training.is_(False), Conversation.opened_at >= period.start,
                 Conversation.opened_at < period.end)
    rows = {r.id: ConversationRow(*r) for r in db.session.execute(
        select(Conversation.id, Conversation.opened_at, Conversation.queued_at, Conversation.claimed_at,
               Conversation.closed_at, Conversation.status, Conversation.risk_level, Conversation.disposition)
        .where(*in_period).order_by(Conversation.opened_at))}
    ids = select(Conversation.id).where(*in_period)
    for cid in db.session.scalars(select(Message.conversation_id).where(
            Message.kind == SURVEY, Message.status.not_in(FINAL_FAILURES), Message.conversation_id.in_(ids))):
        rows[cid].survey_sent = True
    for cid, score in db.session.execute(select(SurveyResponse.conversation_id, SurveyResponse.score).where(
            SurveyResponse.conversation_id.in_(ids))):
        rows[cid].survey_score = score
    return Report(period, list(rows.values()), now or utcnow())
