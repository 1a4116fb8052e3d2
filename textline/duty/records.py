"""Duty records under the data rules: the admin's export of a texter, a texter's erasure, and retention.

- Export: each conversation's report decision and emergency records go with its transcript (without the
  adults' names: the export is what a texter asked to see, and it names no volunteer either).
- Retention: transcripts lose their words after RETENTION_DAYS (textline/ops/retention.py); duty records are
  kept REPORT_RETENTION_DAYS after their conversation closed (longer: the authorities may ask years later),
  then deleted, except a report decision still owed, and a record an admin put on legal hold.
- Erasure on request: the texter's duty records are deleted, except those on legal hold (a legal
  obligation outweighs the request; the admin is told how many were kept).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from textline.accounts import audit
from textline.extensions import db
from textline.models import CLOSED, Conversation, EmergencyRecord, ReportDecision


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def export_report(r: ReportDecision) -> dict:
    return {"trigger": r.trigger, "owed_at": _iso(r.owed_at), "decision": r.decision, "reported_to": r.reported_to,
            "reported_to_other": r.reported_to_other, "reference": r.reference, "reported_at": _iso(r.reported_at),
            "not_required_why": r.not_required_why, "consulted_with": r.consulted_with,
            "decided_at": _iso(r.decided_at), "legal_hold": r.legal_hold}


def export_emergency(e: EmergencyRecord) -> dict:
    return {"contacted_at": _iso(e.contacted_at), "service": e.service, "outcome": e.outcome,
            "legal_hold": e.legal_hold}


def export_for(conversation_id: int) -> dict:
    """The duty part of one conversation in a texter's export."""
    report = db.session.scalar(select(ReportDecision).where(ReportDecision.conversation_id == conversation_id))
    records = db.session.scalars(select(EmergencyRecord).where(EmergencyRecord.conversation_id == conversation_id)
                                 .order_by(EmergencyRecord.id))
    return {"report_decision": export_report(report) if report else None,
            "emergency_records": [export_emergency(e) for e in records]}


def set_hold(conversation_id: int, user, hold: bool) -> int:
    """An admin's legal hold on a conversation's duty records (its report decision and emergency records):
    kept past REPORT_RETENTION_DAYS and through a texter's erasure. Audited, committed. Returns how many
    records it covers (0: nothing to hold)."""
    rows = [*db.session.scalars(select(ReportDecision).where(ReportDecision.conversation_id == conversation_id)),
            *db.session.scalars(select(EmergencyRecord).where(EmergencyRecord.conversation_id == conversation_id))]
    changed = [r for r in rows if r.legal_hold != hold]
    for r in changed:
        r.legal_hold = hold
    if changed:
        audit.record("duty.legal_hold", user, "conversation", conversation_id, commit=False, hold=hold,
                     records=len(rows))
    db.session.commit()
    return len(rows)


def held(conversation_id: int) -> bool:
    """Whether the conversation has duty records and every one of them is on legal hold."""
    flags = [h for model in (ReportDecision, EmergencyRecord)
             for h in db.session.scalars(select(model.legal_hold).where(model.conversation_id == conversation_id))]
    return bool(flags) and all(flags)


def erase_for(conversation_ids: list[int]) -> dict:
    """A texter's erasure: delete their duty records not on legal hold (in the caller's transaction)."""
    if not conversation_ids:
        return {"duty_records_erased": 0, "duty_records_held": 0}
    erased = held = 0
    for model in (ReportDecision, EmergencyRecord):
        mine = model.conversation_id.in_(conversation_ids)
        held += db.session.scalar(select(func.count()).select_from(model).where(mine, model.legal_hold.is_(True)))
        erased += db.session.execute(delete(model).where(mine, model.legal_hold.is_(False))
                                     .execution_options(synchronize_session=False)).rowcount
    return {"duty_records_erased": erased, "duty_records_held": held}


def apply_retention(days: int, now: datetime) -> dict:
    """Delete duty records whose conversation closed more than `days` ago, except held ones and decisions
    still owed. Committed, with one audit line when anything went."""
    old = select(Conversation.id).where(Conversation.status == CLOSED, Conversation.closed_at < now - timedelta(days=days))
    reports = db.session.execute(delete(ReportDecision).where(
        ReportDecision.conversation_id.in_(old), ReportDecision.legal_hold.is_(False),
        ReportDecision.decided_at.is_not(None)).execution_options(synchronize_session=False)).rowcount
    emergencies = db.session.execute(delete(EmergencyRecord).where(
        EmergencyRecord.conversation_id.in_(old), EmergencyRecord.legal_hold.is_(False))
        .execution_options(synchronize_session=False)).rowcount
    if reports or emergencies:
        audit.record("duty.retention", None, None, None, commit=False, report_decisions=reports,
                     emergency_records=emergencies, days=days)
    db.session.commit()
    return {"report_decisions_deleted": reports, "emergency_records_deleted": emergencies}
