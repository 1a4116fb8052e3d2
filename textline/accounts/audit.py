"""Recording sensitive actions. One call per action; the caller's transaction carries it."""
from __future__ import annotations

from flask import has_request_context, request

from textline.extensions import db
from textline.models.audit import AuditEvent


def record(action: str, actor=None, target_type: str | None = None, target_id: int | None = None,
           commit: bool = True, **details) -> AuditEvent:
    """Append one audit event. `details` must never carry message bodies or phone numbers."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", actor), action=action, target_type=target_type, target_id=target_id,
        details=details or None, ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event
