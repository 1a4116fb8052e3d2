"""The adults' work list: one list of everything an adult owes, oldest first, each with its age and its owner
(the adult who took it on, or nobody yet), so nothing waits unseen.

Sources are functions `source(now) -> iterable of WorkItem`, registered with @work_source. This module
registers open alerts and report decisions owed. Other features plug their own in the same way (volunteer
wellbeing: debrief requests, volunteers paused or past their limits): decorate a function in that feature's
package with @work_list.work_source and make sure its module is imported by the feature's web.init_app.
Nothing here needs to know about them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from flask import url_for

from textline.duty import owed, reminders
from textline.models import utcnow
from textline.payloads import reason_text
from textline.safety import escalation


@dataclass(frozen=True)
class WorkItem:
    kind: str                      # "alert", "report", or a plugged-in source's own kind
    title: str                     # what is owed, e.g. "Report decision owed"
    since: datetime                # when it started to be owed: the list's order and the age shown
    owner: str | None = None       # the adult who took it on; None = nobody yet
    alias: str | None = None       # the texter, when it is about a conversation
    conversation_id: int | None = None
    detail: str = ""
    overdue: bool = False          # past its reminder time
    url: str | None = None         # where it is done

    def to_dict(self) -> dict:
        return {**asdict(self), "since": self.since.isoformat()}


Source = Callable[[datetime], Iterable[WorkItem]]
SOURCES: list[Source] = []


def work_source(fn: Source) -> Source:
    """Register a source of work items (once, however often its module is imported)."""
    if fn not in SOURCES:
        SOURCES.append(fn)
    return fn


@work_source
def open_alerts(now: datetime) -> Iterable[WorkItem]:
    for esc in escalation.unresolved():
        conv = esc.conversation
        yield WorkItem("alert", "Alert: " + reason_text(esc), esc.opened_at,
                       owner=esc.acknowledged_by.display_name if esc.acknowledged_by else None,
                       alias=conv.texter.alias, conversation_id=conv.id,
                       detail="acknowledged" if esc.acknowledged_at else "not acknowledged")


@work_source
def reports_owed(now: datetime) -> Iterable[WorkItem]:
    for report in owed.still_owed():
        conv = report.conversation
        owner = report.marked_by or conv.adult  # who marked it, or the adult who joined the conversation
        yield WorkItem("report", "Report decision owed", report.owed_at,
                       owner=owner.display_name if owner else None, alias=conv.texter.alias, conversation_id=conv.id,
                       detail="marked by an adult" if report.trigger == "marked" else "abuse or violence disclosed",
                       overdue=reminders.overdue(report, now),
                       url=url_for("duty.conversation", conversation_id=conv.id))


def items(now: datetime | None = None) -> list[WorkItem]:
    """Every source's items, oldest first."""
    now = now or utcnow()
    found = [item for source in SOURCES for item in source(now)]
    return sorted(found, key=lambda i: (i.since, i.kind, i.conversation_id or 0))
