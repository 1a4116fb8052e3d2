"""Duty-of-care numbers for the insights page (training conversations never count):
- emergency contacts: emergency records whose contact time is in the period (Crisis Text Line's "active rescues");
- report decisions that became owed in the period, by what was decided, and how many are still owed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from textline.extensions import db
from textline.models import DECISIONS, Conversation, EmergencyRecord, ReportDecision


def period_counts(start: datetime, end: datetime) -> dict:
    real = Conversation.training.is_(False)
    emergencies = db.session.scalar(
        select(func.count()).select_from(EmergencyRecord).join(Conversation, Conversation.id == EmergencyRecord.conversation_id)
        .where(real, EmergencyRecord.contacted_at >= start, EmergencyRecord.contacted_at < end))
    by_decision = dict(db.session.execute(
        select(ReportDecision.decision, func.count()).join(Conversation, Conversation.id == ReportDecision.conversation_id)
        .where(real, ReportDecision.owed_at >= start, ReportDecision.owed_at < end)
        .group_by(ReportDecision.decision)).all())
    return {"emergency_contacts": emergencies, "reports_owed": sum(by_decision.values()),
            "still_owed": by_decision.get(None, 0), **{d: by_decision.get(d, 0) for d in DECISIONS}}
