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
- An escalation counts on the local day it was opened (training conversations left out). Response
  time = acknowledged_at - opened_at: from the alert to an adult acknowledging it (pressing
  Acknowledge, joining, taking over or writing to the texter). "Acknowledged within 2 minutes" is out of
  every escalation whose answer is known: acknowledged, or 2 minutes gone by without it (still open,
  or ended unacknowledged later than that). One that went away by itself sooner (the texter was
  claimed, the volunteer answered) needed no adult and is left out of both numbers.
- Time to acknowledge, beyond the acknowledged ones: "still open" (no adult yet, not ended: it may
  still be) and "never acknowledged" (ended without an adult acknowledging it).
- Paged = an SMS page went to at least one advisor's phone (nobody acknowledged in time).
- Emergency contacts ("active rescues") = an adult recorded contacting the emergency services, counted on
  the local day of the contact; report decisions count on the day they became owed (textline/duty/counts.py).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from textline.console import wrap_up
from textline.duty.counts import period_counts
from textline.extensions import db
from textline.models import (
    CLOSED, FINAL_FAILURES, REASONS, WAITING, Conversation, Escalation, Message, SurveyResponse, utcnow,
)
from textline.payloads import REASON_TEXT
from textline.texting.survey import SURVEY

ANSWER_TARGET = timedelta(minutes=5)
MAX_DAYS = 366
DEFAULT_DAYS = 7
# Wait-time histogram buckets: (upper bound in seconds, label); the last is open-ended.
WAIT_BUCKETS = ((60, "<1 min"), (120, "1-2 min"), (300, "2-5 min"), (600, "5-10 min"), (1800, "10-30 min"),
                (None, "30+ min"))
SCORES = (1, 2, 3, 4, 5)
ACK_TARGET = timedelta(minutes=2)
# Response-time histogram buckets, as for waits; acknowledgements only.
ACK_BUCKETS = ((60, "<1 min"), (120, "1-2 min"), (300, "2-5 min"), (600, "5-10 min"), (None, "10+ min"))


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


def parse_period(raw_from: str | None, raw_to: str | None, tz: ZoneInfo, now: datetime | None = None,
                 default_days: int = DEFAULT_DAYS) -> Period:
    """From the page's ?from=YYYY-MM-DD&to=YYYY-MM-DD; by default the last `default_days` days up to today."""
    today = (now or utcnow()).astimezone(tz).date()

    def parse(raw, name, default):
        if raw in (None, ""):
            return default
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise PeriodError(f"The {name} date must look like 2026-03-31.") from None

    last = parse(raw_to, "end", today)
    first = parse(raw_from, "start", last - timedelta(days=default_days - 1))
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

    @property
    def wrap_up(self) -> wrap_up.Recorded:
        return wrap_up.read(self.disposition)

    def topics(self) -> list[str]:
        return list(self.wrap_up.topics)

    def outcome(self) -> str | None:
        return self.wrap_up.outcome


@dataclass
class EscalationRow:
    id: int
    conversation_id: int
    reason: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    pages_sent: int

    @property
    def response_seconds(self) -> float | None:
        return (self.acknowledged_at - self.opened_at).total_seconds() if self.acknowledged_at else None

    def acknowledged_in_time(self, now: datetime) -> bool | None:
        """True/False once known; None while under the target, or when it went away by itself sooner."""
        if self.acknowledged_at is not None:
            return self.acknowledged_at - self.opened_at <= ACK_TARGET
        ended = self.resolved_at or now
        return False if ended - self.opened_at > ACK_TARGET else None


def escalation_summary(rows: list[EscalationRow], now: datetime) -> dict:
    """Counts and response times of some escalations (all of a period, one reason, one day)."""
    times = sorted(t for t in (r.response_seconds for r in rows) if t is not None)
    known = [a for a in (r.acknowledged_in_time(now) for r in rows) if a is not None]
    return {"total": len(rows), "acknowledged": len(times),
            "p50": percentile(times, 50), "p90": percentile(times, 90),
            "in_time": sum(known), "known": len(known),
            "paged": sum(1 for r in rows if r.pages_sent > 0),
            "resolved_by_itself": sum(1 for r in rows if r.acknowledged_at is None and r.resolved_at is not None),
            "open": sum(1 for r in rows if r.acknowledged_at is None and r.resolved_at is None)}


@dataclass
class Report:
    period: Period
    rows: list[ConversationRow]
    now: datetime
    escalation_rows: list[EscalationRow] = field(default_factory=list)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    per_hour: list[int] = field(default_factory=list)
    duty: dict = field(default_factory=dict)  # emergency contacts and report decisions (duty/counts.py)

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

    def _in_order(self, values, order) -> list[tuple[str, int]]:
        """Counts in the wrap-up form's order, then any other stored value (older rows) by count."""
        counts = Counter(values)
        known = [(k, counts.pop(k)) for k in order if k in counts]
        return known + counts.most_common()

    def assessed_risk(self) -> list[tuple[str, int]]:
        """The risk level volunteers assessed in their wrap-ups (not the scorer's)."""
        return self._in_order((r.wrap_up.risk for r in self.rows if r.wrap_up.risk), wrap_up.RISK_LEVELS)

    def follow_ups(self) -> list[tuple[str, int]]:
        return self._in_order((r.wrap_up.follow_up for r in self.rows if r.wrap_up.follow_up), wrap_up.FOLLOW_UPS)

    def resources_given(self) -> list[tuple[str, int]]:
        return self._in_order((x for r in self.rows for x in r.wrap_up.resources), wrap_up.resources())

    def wrap_ups(self) -> dict:
        """Closed conversations by who closed them: a volunteer's complete wrap-up, an adult, the system."""
        closed = [r for r in self.rows if r.status == CLOSED]
        by = Counter(r.wrap_up.by or "unknown" for r in closed)
        return {"closed": len(closed), "complete": sum(1 for r in closed if r.wrap_up.complete),
                **{k: by.get(k, 0) for k in (*wrap_up.BY, "unknown")}}

    def survey(self) -> dict:
        scores = [r.survey_score for r in self.rows if r.survey_score is not None]
        sent = sum(1 for r in self.rows if r.survey_sent)
        counts = Counter(scores)
        return {"sent": sent, "answered": len(scores),
                "mean": round(sum(scores) / len(scores), 2) if scores else None,
                "distribution": [(s, counts.get(s, 0)) for s in SCORES]}

    def escalations(self) -> dict:
        """Escalations opened in the period and how fast an adult responded: overall and per reason."""
        summary = escalation_summary(self.escalation_rows, self.now)
        summary["by_reason"] = [
            (reason, REASON_TEXT[reason], escalation_summary([r for r in self.escalation_rows if r.reason == reason],
                                                             self.now))
            for reason in REASONS]
        return summary

    def response_histogram(self) -> list[tuple[str, int]]:
        counts = Counter()
        for seconds in (r.response_seconds for r in self.escalation_rows):
            if seconds is None:
                continue
            for bound, label in ACK_BUCKETS:
                if bound is None or seconds < bound:
                    counts[label] += 1
                    break
        rows = [(label, counts.get(label, 0)) for _, label in ACK_BUCKETS]
        # An alert opened seconds ago is not "never": only one that ended without an adult was never acknowledged.
        unacked = [r for r in self.escalation_rows if r.acknowledged_at is None]
        return rows + [("still open", sum(1 for r in unacked if r.resolved_at is None)),
                       ("never acknowledged", sum(1 for r in unacked if r.resolved_at is not None))]


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
    escalations = [EscalationRow(*r) for r in db.session.execute(
        select(Escalation.id, Escalation.conversation_id, Escalation.reason, Escalation.opened_at,
               Escalation.acknowledged_at, Escalation.resolved_at, Escalation.pages_sent)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .where(Conversation.training.is_(False), Escalation.opened_at >= period.start,
               Escalation.opened_at < period.end)
        .order_by(Escalation.opened_at, Escalation.id))]
    return Report(period, list(rows.values()), now or utcnow(), escalations,
                  duty=period_counts(period.start, period.end))
