"""Shadow scoring of inbound texts (textline/riskmodels/shadow.py holds the logic)."""
from __future__ import annotations

from celery import shared_task

from textline.riskmodels import shadow


@shared_task(name="workers.riskmodels.score_in_shadow")
def score_in_shadow(message_id: int) -> bool:
    return shadow.record(message_id)
