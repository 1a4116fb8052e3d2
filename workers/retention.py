"""Retention: run hourly by beat. Conversations gone quiet are closed first, so they are erased in turn;
both steps are idempotent, so a missed or repeated run does no harm."""
from celery import shared_task
from flask import current_app

from textline.accounts import audit
from textline.duty import records as duty_records
from textline.models import utcnow
from textline.ops import retention


@shared_task(name="workers.retention.apply_retention")
def apply_retention() -> dict:
    closed = retention.close_idle(current_app.config["IDLE_CLOSE_DAYS"])
    result = retention.apply_retention(current_app.config["RETENTION_DAYS"])
    # Duty records by their own, longer period (legal holds): textline/duty/records.py.
    duty = duty_records.apply_retention(current_app.config["REPORT_RETENTION_DAYS"], utcnow())
    result = {"idle_closed": closed, **result, **duty}
    if any(result.values()):
        audit.record("retention_run", None, None, None, **result)
    return result
