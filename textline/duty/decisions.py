"""Recording an adult's report decision: reported (to whom, reference, when), not required (why), or
consulted (with whom). A decision can be corrected; every change is in the audit log with what changed
(the adult's own words stay out of the log: they may retell the texter's)."""
from __future__ import annotations

from datetime import datetime

from textline.accounts import audit
from textline.duty.forms import DutyError, text, when
from textline.extensions import db
from textline.models import (
    CONSULTED, DECISIONS, NOT_REQUIRED, REPORTED, REPORTED_TO, ReportDecision, User, utcnow,
)

DECISION_TEXT = {REPORTED: "Reported", NOT_REQUIRED: "Not required", CONSULTED: "Consulted"}
REPORTED_TO_TEXT = {"child_protective_services": "Child protective services", "police": "Police",
                    "online_exploitation_platform": "The platform for online exploitation (e.g. NCMEC CyberTipline)",
                    "other": "Other"}
FIELDS = ("decision", "reported_to", "reported_to_other", "reference", "reported_at", "not_required_why",
          "consulted_with")


def _read(form, now: datetime) -> dict:
    """The decision's columns from the form; only those of the chosen decision are kept."""
    decision = form.get("decision")
    if decision not in DECISIONS:
        raise DutyError("Choose reported, not required, or consulted.", "decision")
    values = dict.fromkeys(FIELDS[1:])
    values["decision"] = decision
    if decision == REPORTED:
        to = form.get("reported_to")
        if to not in REPORTED_TO:
            raise DutyError("Say who it was reported to.", "reported_to")
        values["reported_to"] = to
        if to == "other":
            values["reported_to_other"] = text(form, "reported_to_other", 200, "Name who it was reported to.")
        values["reference"] = text(form, "reference", 100)
        values["reported_at"] = when(form, "reported_at", now)
    elif decision == NOT_REQUIRED:
        values["not_required_why"] = text(form, "not_required_why", 2000, "Say why no report is required.")
    else:
        values["consulted_with"] = text(form, "consulted_with", 200, "Say who you consulted.")
    return values


def decide(report: ReportDecision, user: User, form, now: datetime | None = None) -> ReportDecision:
    """Record (or correct) the decision, audited, and commit. Raises DutyError for a form that cannot be saved."""
    now = now or utcnow()
    values = _read(form, now)
    changed = sorted(k for k, v in values.items() if getattr(report, k) != v)
    if not changed and report.decided_at is not None:
        return report
    first = report.decided_at is None
    for k, v in values.items():
        setattr(report, k, v)
    report.decided_at, report.decided_by_id = now, user.id
    audit.record("report.decide" if first else "report.change", user, "report_decision", report.id,
                 commit=False, conversation_id=report.conversation_id, decision=values["decision"],
                 reported_to=values["reported_to"], changed=changed)
    db.session.commit()
    return report

