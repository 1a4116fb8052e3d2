"""The Triage page's numbers: the live risk scorer's decisions against the labels of the line's adults,
over the conversations opened in a period (the line's local days; training conversations never count).

Definitions (shown on the page too):
- The scorer's decision is the one it made live, stored with each text (Message.risk) and, as the highest
  of them, on the conversation (Conversation.risk_level): it ALERTED when a text was high (that alert
  paged the adults), it FLAGGED when a text was high or review (medium).
- A conversation NEEDED AN ADULT when an adult labelled it, or any text in it, "needed an adult now".
  Otherwise, when adults labelled it or its texts only "false alarm", it did not. With no adult label,
  the volunteer's wrap-up decides: assessed risk high = needed, none or low = did not, medium = no label.
  Adults' labels beat the volunteer's. A conversation whose words retention or an erasure removed has
  no labels any more (textline/triage/labels.py).
- Alert recall = needed conversations the scorer alerted on / needed conversations. Alert precision =
  alerted conversations that needed an adult / alerted conversations with a label. Flagged recall and
  precision the same with "flagged".
- ORDINARY conversations are all the others: labelled as not needing an adult, or never labelled. Most
  conversations are never labelled, and this share is what carries over to real traffic; an unlabelled
  one that did need an adult is counted as ordinary, which can only make the share look worse.
- Misses: needed an adult, no alert. False alarms: alerted, labelled as not needing an adult.
- Texts: the same for the texts adults labelled one by one (their own label only).
- Time to an adult: from the first text the scorer rated high to an adult acknowledging the conversation's
  risk alert (pressing Acknowledge, joining, taking over or writing to the texter). Nearest-rank p50/p90
  of the acknowledged ones; the others are counted as not acknowledged. Misses raised no risk alert, so
  they have no time here: they are in the list of misses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from textline.extensions import db
from textline.insights.report import Period, percentile
from textline.models import FALSE_ALARM, INBOUND, NEEDED, Conversation, Escalation, Message, RiskLabel, Texter
from textline.triage.labels import WRAP_UP_VERDICTS

ALERT, FLAG = ("high",), ("medium", "high")
ADULT, VOLUNTEER = "adult", "volunteer"


@dataclass
class Row:
    """One conversation of the period, as the page lists it."""
    id: int
    alias: str
    opened_at: datetime
    risk_level: str                # the scorer's highest level in it
    truth: str | None = None       # NEEDED, FALSE_ALARM or None (no label)
    source: str | None = None      # who said so: ADULT or VOLUNTEER

    @property
    def alerted(self) -> bool:
        return self.risk_level in ALERT

    @property
    def flagged(self) -> bool:
        return self.risk_level in FLAG


def _ratio(hits: int, out_of: int) -> float | None:
    return hits / out_of if out_of else None


@dataclass
class Triage:
    period: Period
    rows: list[Row]
    texts: list[tuple[str, str]]                  # (adult's label, the scorer's level) of labelled texts
    ack_seconds: list[float] = field(default_factory=list)
    unacknowledged: int = 0

    def needed(self) -> list[Row]:
        return [r for r in self.rows if r.truth == NEEDED]

    def ordinary(self) -> list[Row]:
        return [r for r in self.rows if r.truth != NEEDED]

    def labelled(self) -> list[Row]:
        return [r for r in self.rows if r.truth is not None]

    def measure(self, levels: tuple[str, ...]) -> dict:
        """Recall, precision and the share of ordinary conversations for one decision (ALERT or FLAG)."""
        needed, ordinary = self.needed(), self.ordinary()
        hit = sum(r.risk_level in levels for r in needed)
        decided = [r for r in self.labelled() if r.risk_level in levels]
        shown = sum(r.risk_level in levels for r in ordinary)
        return {"hits": hit, "needed": len(needed), "recall": _ratio(hit, len(needed)),
                "right": hit, "decided": len(decided), "precision": _ratio(hit, len(decided)),
                "ordinary_hits": shown, "ordinary": len(ordinary), "ordinary_share": _ratio(shown, len(ordinary))}

    def text_measure(self, levels: tuple[str, ...]) -> dict:
        needed = [lvl for verdict, lvl in self.texts if verdict == NEEDED]
        hit = sum(lvl in levels for lvl in needed)
        decided = [verdict for verdict, lvl in self.texts if lvl in levels]
        return {"hits": hit, "needed": len(needed), "recall": _ratio(hit, len(needed)),
                "right": hit, "decided": len(decided), "precision": _ratio(hit, len(decided))}

    def misses(self) -> list[Row]:
        return [r for r in self.needed() if not r.alerted]

    def false_alarms(self) -> list[Row]:
        return [r for r in self.rows if r.alerted and r.truth == FALSE_ALARM]

    def ack(self) -> dict:
        times = sorted(self.ack_seconds)
        return {"acknowledged": len(times), "unacknowledged": self.unacknowledged,
                "p50": percentile(times, 50), "p90": percentile(times, 90)}


def _truths(rows: dict[int, Row], ids, dispositions: dict[int, dict | None],
            erased: set[int]) -> list[tuple[str, str]]:
    """Fill each row's truth; return the (label, scorer's level) of the texts adults labelled one by one.
    `ids`: a select of the period's conversation ids."""
    adult: dict[int, list[str]] = {}
    text_labels = []
    for conv_id, message_id, verdict, risk in db.session.execute(
            select(RiskLabel.conversation_id, RiskLabel.message_id, RiskLabel.verdict, Message.risk)
            .outerjoin(Message, Message.id == RiskLabel.message_id)
            .where(RiskLabel.conversation_id.in_(ids))):
        adult.setdefault(conv_id, []).append(verdict)
        if message_id is not None:
            text_labels.append((verdict, (risk or {}).get("level", "none")))
    for conv_id, row in rows.items():
        if conv_id in adult:
            row.truth = NEEDED if NEEDED in adult[conv_id] else FALSE_ALARM
            row.source = ADULT
        elif conv_id not in erased and dispositions[conv_id]:
            row.truth = WRAP_UP_VERDICTS.get(dispositions[conv_id].get("risk"))
            row.source = VOLUNTEER if row.truth else None
    return text_labels


def _acknowledgements(ids) -> tuple[list[float], int]:
    """Seconds from each risk alert's first high text to its acknowledgement; and how many are not acknowledged."""
    alerts = db.session.execute(select(Escalation.conversation_id, Escalation.opened_at, Escalation.acknowledged_at)
                                .where(Escalation.conversation_id.in_(ids), Escalation.reason == "risk")).all()
    if not alerts:
        return [], 0
    alerted = select(Escalation.conversation_id).where(Escalation.conversation_id.in_(ids),
                                                        Escalation.reason == "risk")
    first_high: dict[int, datetime] = {}
    for conv_id, at, risk in db.session.execute(
            select(Message.conversation_id, Message.created_at, Message.risk)
            .where(Message.conversation_id.in_(alerted), Message.direction == INBOUND)
            .order_by(Message.id)):
        if conv_id not in first_high and (risk or {}).get("level") in ALERT:
            first_high[conv_id] = at
    times, open_ = [], 0
    for conv_id, opened_at, acknowledged_at in alerts:
        if acknowledged_at is None:
            open_ += 1
            continue
        # The alert is raised with the text, in the same transaction; opened_at stands in if its level is gone.
        times.append((acknowledged_at - first_high.get(conv_id, opened_at)).total_seconds())
    return times, open_


def build(period: Period) -> Triage:
    in_period = (Conversation.training.is_(False), Conversation.opened_at >= period.start,
                 Conversation.opened_at < period.end)
    found = db.session.execute(
        select(Conversation.id, Texter.alias, Conversation.opened_at, Conversation.risk_level,
               Conversation.disposition, Conversation.content_erased_at)
        .join(Texter, Texter.id == Conversation.texter_id).where(*in_period)
        .order_by(Conversation.opened_at, Conversation.id)).all()
    rows = {r.id: Row(r.id, r.alias, r.opened_at, r.risk_level) for r in found}
    ids = select(Conversation.id).where(*in_period)
    texts = _truths(rows, ids, {r.id: r.disposition for r in found}, {r.id for r in found if r.content_erased_at})
    times, unacknowledged = _acknowledgements(ids)
    return Triage(period, list(rows.values()), texts, times, unacknowledged)
