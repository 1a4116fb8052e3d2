"""Fetching texters' pictures and files from Twilio. The logic lives in textline.media.fetch; here are
the retries and the sweep."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from textline.media import fetch
from textline.ops import metrics
from workers.outbound import backoff


@shared_task(bind=True, name="workers.media.fetch_media", max_retries=None)
def fetch_media(self, media_id: int) -> str:
    try:
        return fetch.fetch(media_id)
    except fetch.TransientFailure as exc:
        if self.request.retries >= current_app.config["MEDIA_FETCH_MAX_RETRIES"]:
            fetch.give_up(media_id)
            metrics.inc("task_failures", self.name)
            return "failed"
        countdown = exc.retry_in if exc.retry_in is not None else backoff(self.request.retries)
        raise self.retry(exc=exc, countdown=countdown)


@shared_task(name="workers.media.sweep_media")
def sweep_media() -> int:
    """Queue again the media a lost task left behind (safe alongside live tasks: fetch is idempotent)."""
    ids = fetch.stuck_ids(timedelta(seconds=current_app.config["OUTBOUND_SWEEP_AFTER_SECONDS"]))
    for media_id in ids:
        fetch_media.delay(media_id)
    return len(ids)
