"""The order of danger in which adults see open alerts, in one place: high risk first (whatever raised
the alert: a texter at high risk who also waited is as urgent as a risk alert), then a volunteer asking
for an adult, then a texter left unanswered, then a texter waiting unclaimed; the oldest first within
each. The dashboard's snapshot is sorted by it, and every alert carries its `severity`, so consoles keep
live updates in the same order (static/js/supervise.js)."""
from __future__ import annotations

from textline.models import Escalation

HIGH_RISK = 0
# Nobody on shift reads the texter's language: a wait that nobody can end, as urgent as a long wait.
REASON_SEVERITY = {"risk": HIGH_RISK, "asked": 1, "no_reply": 2, "wait": 3, "no_speaker": 3}


def severity(esc: Escalation) -> int:
    """0 is the most dangerous."""
    if esc.conversation.risk_level == "high":
        return HIGH_RISK
    return REASON_SEVERITY.get(esc.reason, 1)


def in_order(alerts: list[Escalation]) -> list[Escalation]:
    return sorted(alerts, key=lambda e: (severity(e), e.opened_at, e.id))
