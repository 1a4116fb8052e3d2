"""Retention: run hourly by beat; erasing is idempotent, so a missed or repeated run does no harm."""
from celery import shared_task
from flask import current_app

from textline.accounts import audit
from textline.ops import retention


@shared_task(name="workers.retention.apply_retention")
def apply_retention() -> dict:
    result = retention.apply_retention(current_app.config["RETENTION_DAYS"])
    if any(result.values()):
        audit.record("retention_run", None, None, None, **result)
    return result
