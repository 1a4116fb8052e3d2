"""Fetching one media item from Twilio exactly once, then deleting it there.

The row's state moves pending -> fetching -> stored | too_large | failed, each move an optimistic
UPDATE on (state, attempts), so two workers (a retry racing a redelivered task) never both fetch. The
storage key is chosen when the first attempt claims the row, so an attempt whose worker died after
writing the file is redone onto the same file, never a second copy. Once the line has its copy (or
will never fetch it: too large, or Twilio lost it), the media is deleted at Twilio; that step is
retried on its own until Twilio says it is gone.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from textline import broadcast
from textline.extensions import db
from textline.media import kinds, preview, storage
from textline.models import Message, MessageMedia, utcnow
from textline.models.texting import (
    MEDIA_FAILED, MEDIA_FETCHING, MEDIA_PENDING, MEDIA_STORED, MEDIA_TOO_LARGE,
)
from textline.ops import metrics
from textline.safety import notices
from textline.texting import twilio_gateway

log = logging.getLogger(__name__)
DONE = (MEDIA_STORED, MEDIA_TOO_LARGE, MEDIA_FAILED)


class TransientFailure(Exception):
    """Twilio or the storage failed for now; the task retries."""

    def __init__(self, reason: str, retry_in: float | None = None):
        super().__init__(reason)
        self.retry_in = retry_in


def stale_after() -> timedelta:
    """An attempt this old is presumed dead (its worker was killed): the download gives up after an HTTP
    timeout without data. Short enough that a retry's countdown stays within the broker's visibility."""
    return timedelta(seconds=3 * current_app.config["TWILIO_HTTP_TIMEOUT"])


def fetch(media_id: int) -> str:
    """Fetch, keep and delete-at-Twilio one media item. Safe to run any number of times, concurrently."""
    media = db.session.get(MessageMedia, media_id)
    if media is None:
        return "missing"
    if media.state in DONE:
        _remove_from_twilio(media)
        return media.state
    now = utcnow()
    if media.state == MEDIA_FETCHING and media.fetch_started_at and now - media.fetch_started_at < stale_after():
        wait = (media.fetch_started_at + stale_after() - now).total_seconds()
        raise TransientFailure("an attempt is in flight", retry_in=wait + 0.5)
    key = media.storage_key or storage.new_key(media.id)
    attempt = media.attempts + 1
    claimed = db.session.execute(
        update(MessageMedia)
        .where(MessageMedia.id == media.id, MessageMedia.state == media.state, MessageMedia.attempts == media.attempts)
        .values(state=MEDIA_FETCHING, attempts=attempt, fetch_started_at=now, storage_key=key)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "raced"
    db.session.refresh(media)
    started = utcnow()
    try:
        download = twilio_gateway.fetch_media(media.url, current_app.config["MEDIA_MAX_BYTES"])
    except twilio_gateway.MediaGone as exc:
        _finish(media, attempt, MEDIA_FAILED, error=f"gone: {exc}"[:64])
    except Exception as exc:
        _release(media, attempt, f"fetch: {exc.__class__.__name__}")
        raise TransientFailure(f"fetch failed: {exc.__class__.__name__}") from exc
    else:
        if download.data is None:
            _finish(media, attempt, MEDIA_TOO_LARGE, size=download.size, error="over MEDIA_MAX_BYTES")
        else:
            _keep(media, attempt, key, download)
    if media.state not in DONE:  # a newer attempt took over: its result stands
        return "raced"
    metrics.inc("media", media.state)
    log.info("media fetched", extra={"media_id": media.id, "state": media.state, "size": media.size,
                                     "attempts": media.attempts,
                                     "seconds": round((utcnow() - started).total_seconds(), 3)})
    _announce(media)
    _remove_from_twilio(media)
    return media.state


def _keep(media: MessageMedia, attempt: int, key: str, download: twilio_gateway.MediaDownload) -> None:
    store = storage.current()
    blurred = preview.blurred(download.data) if kinds.is_picture(media.content_type) else None
    preview_key = f"{key}.preview" if blurred else None
    try:
        store.save(key, download.data)
        if blurred:
            store.save(preview_key, blurred)
    except OSError as exc:
        _release(media, attempt, "storage")
        raise TransientFailure(f"storage failed: {exc.__class__.__name__}") from exc
    _finish(media, attempt, MEDIA_STORED, size=download.size, preview_key=preview_key, fetched_at=utcnow(),
            error=None)


def _finish(media: MessageMedia, attempt: int, state: str, **values) -> None:
    """Record the outcome, unless a newer attempt claimed the row meanwhile."""
    db.session.execute(update(MessageMedia)
                       .where(MessageMedia.id == media.id, MessageMedia.attempts == attempt,
                              MessageMedia.state == MEDIA_FETCHING)
                       .values(state=state, **values))
    db.session.commit()
    db.session.refresh(media)


def _release(media: MessageMedia, attempt: int, error: str) -> None:
    """This attempt failed: back to pending for the retry (unless a newer attempt has it)."""
    _finish(media, attempt, MEDIA_PENDING, error=error[:64])


def _remove_from_twilio(media: MessageMedia) -> None:
    if media.removed_from_twilio_at is not None:
        return
    try:
        twilio_gateway.delete_media(media.url)
    except Exception as exc:
        raise TransientFailure(f"delete at Twilio failed: {exc.__class__.__name__}") from exc
    media.removed_from_twilio_at = utcnow()
    db.session.commit()


def _announce(media: MessageMedia) -> None:
    """The consoles get the message again, now with its picture's state; adults are told a picture came."""
    msg = media.message
    broadcast.message_added(msg)
    if media.state == MEDIA_STORED and kinds.is_picture(media.content_type):
        conv = msg.conversation
        notices.notify_supervisors("picture", f"{conv.texter.alias} sent a picture. Adults look first: open "
                                   f"the conversation to see it.", conv, level="info", media_id=media.id)


def give_up(media_id: int) -> None:
    """Retries exhausted: failed, shown as such (the texter can be asked to describe it)."""
    media = db.session.get(MessageMedia, media_id)
    if media is not None and media.state not in DONE:
        media.state, media.error = MEDIA_FAILED, "retries-exhausted"
        db.session.commit()
        broadcast.message_added(media.message)
        current_app.logger.error("media %s could not be fetched after retries", media_id)


def stuck_ids(older_than: timedelta) -> list[int]:
    """Media whose task was lost (broker wiped, enqueue failed, worker killed), or whose deletion at
    Twilio is still owed: the sweep queues them again (fetch() is idempotent)."""
    cutoff = utcnow() - older_than
    stale = utcnow() - stale_after()
    return list(db.session.scalars(select(MessageMedia.id).join(MessageMedia.message).where(
        Message.created_at < cutoff,
        (MessageMedia.state == MEDIA_PENDING)
        | ((MessageMedia.state == MEDIA_FETCHING) & (MessageMedia.fetch_started_at < stale))
        | (MessageMedia.state.in_(DONE) & MessageMedia.removed_from_twilio_at.is_(None)),
    ).order_by(MessageMedia.id)))
