"""The spool's drain on beat's schedule (textline/texting/spool_drain.py)."""
from __future__ import annotations

from celery import shared_task

from textline.texting import spool_drain


@shared_task(name="workers.spool.drain_spool")
def drain_spool() -> dict:
    """Replay webhooks kept on disk while SQL was down into SQL, in arrival order."""
    return spool_drain.drain()
