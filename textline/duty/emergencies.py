"""Emergency records: an adult contacted the emergency services about a conversation (when, which service,
what came of it). Counted in insights as "emergency contacts" (Crisis Text Line's "active rescues")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from textline.accounts import audit
from textline.duty import records
from textline.duty.forms import text, when
from textline.extensions import db
from textline.models import Conversation, EmergencyRecord, User, utcnow


def record(conv: Conversation, user: User, form, now: datetime | None = None) -> EmergencyRecord:
    """Store one emergency contact, audited, and commit. Raises DutyError for a form that cannot be saved."""
    now = now or utcnow()
    rec = EmergencyRecord(conversation_id=conv.id, contacted_at=when(form, "contacted_at", now),
                          service=text(form, "service", 100, "Say which service you contacted (e.g. 911)."),
                          outcome=text(form, "outcome", 2000), recorded_by_id=user.id, recorded_at=now,
                          legal_hold=records.held(conv.id))  # a held conversation's new record is held too
    db.session.add(rec)
    db.session.flush()
    audit.record("emergency.record", user, "emergency_record", rec.id, commit=False, conversation_id=conv.id)
    db.session.commit()
    return rec


def for_conversation(conversation_id: int) -> list[EmergencyRecord]:
    return list(db.session.scalars(select(EmergencyRecord).where(EmergencyRecord.conversation_id == conversation_id)
                                   .order_by(EmergencyRecord.contacted_at, EmergencyRecord.id)))
