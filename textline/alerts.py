"""Alerts to the adults on shift, raised from any process: a web request or a Celery worker.

realtime.emit goes through the Socket.IO Redis message queue, so an alert raised in a worker reaches
every supervisor console on every web process. Each alert is counted (textline_escalations_total).
Escalation rules (risk, long waits) decide *when* to call raise_alert; this module only delivers.
"""
from __future__ import annotations

import logging
import uuid

from textline import metrics, payloads
from textline.models import Conversation, utcnow
from textline.realtime import SUPERVISORS, emit

log = logging.getLogger(__name__)
LEVELS = ("info", "warning", "urgent")


def raise_alert(kind: str, text: str, conv: Conversation | None = None, level: str = "warning",
                **details) -> dict:
    """Tell every supervisor now. `text` is shown as is: write it without bodies or numbers."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    data = payloads.alert(uuid.uuid4().hex, kind, level, text, utcnow(), conv, **details)
    metrics.inc("escalations", kind)
    emit("alert", data, to=SUPERVISORS)
    log.info("alert raised", extra={"alert_kind": kind, "alert_level": level,
                                    "conversation_id": data["conversation_id"]})
    return data


def delivery_failed(conv: Conversation, message_id: int, error_code: str | None) -> dict:
    """A text to a texter will not arrive: an adult must know (and may need to reach them another way)."""
    code = f" (error {error_code})" if error_code else ""
    return raise_alert("delivery_failed", f"A text to {conv.texter.alias} could not be delivered{code}.",
                       conv, level="warning", message_id=message_id, error_code=error_code)
