"""Outbound SMS: the state machine that gets one message to Twilio exactly once.

Every outbound message is first stored (status "pending", the outbox) and only then handed to a
Celery task. An attempt claims the row with an optimistic update, calls Twilio, and records the
MessageSid. If an attempt ended without an answer (timeout, 5xx, worker killed), the next attempt
first asks Twilio whether the message went out, because Twilio's Messages API has no idempotency
key: that lookup is what keeps a retry from texting a young person twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from textline import alerts, logs, metrics, payloads, twilio_gateway
from textline.extensions import db
from textline.models import DELIVERY_RANK, DeliveryReceipt, Message, utcnow
from textline.realtime import SUPERVISORS, conversation_room, emit

log = logging.getLogger(__name__)
# Final states that mean the texter will not get the text; "refused" is ours (opted out) and expected.
ALERT_ON = ("failed", "undelivered")


def stale_after() -> timedelta:
    """An attempt older than this is presumed dead (its worker was killed): the Twilio client gives up
    after TWILIO_HTTP_TIMEOUT, so a live attempt never lasts three times as long."""
    return timedelta(seconds=3 * current_app.config["TWILIO_HTTP_TIMEOUT"])

# States from which a new attempt may start; "unconfirmed" and stale "submitting" need a lookup first.
RESUMABLE = ("pending", "unconfirmed", "submitting")


class TransientFailure(Exception):
    """Twilio could not be reached or failed on its side; retrying later may work."""

    def __init__(self, reason: str, retry_in: float | None = None):
        super().__init__(reason)
        self.retry_in = retry_in


@dataclass
class Outcome:
    status: str
    sent_now: bool = False


def _publish_status(msg: Message) -> None:
    data = payloads.message_status(msg)
    emit("message_status", data, to=[conversation_room(msg.conversation_id), SUPERVISORS])


def _set_status(msg: Message, status: str, error_code: str | None = None) -> None:
    msg.status = status
    msg.error_code = error_code
    db.session.commit()
    _publish_status(msg)
    if status in ALERT_ON:
        alerts.delivery_failed(msg.conversation, msg.id, error_code)


def _record_sid(msg: Message, sid: str, status: str) -> None:
    """Store Twilio's answer, then apply any status callbacks that arrived before we knew the SID."""
    msg.twilio_sid = sid
    msg.status = status
    for receipt in db.session.scalars(select(DeliveryReceipt).where(DeliveryReceipt.twilio_sid == sid)):
        advance(msg, receipt.status, receipt.error_code)
    db.session.commit()
    metrics.inc("messages", "out")  # the first time we learn Twilio has it, whichever attempt sent it
    log.info("text accepted by Twilio", extra={"message_id": msg.id, "attempts": msg.attempts, "status": status})
    _publish_status(msg)


def advance(msg: Message, status: str, error_code: str | None = None) -> bool:
    """Move delivery state forward only: callbacks can arrive out of order."""
    if DELIVERY_RANK.get(status, -1) <= DELIVERY_RANK.get(msg.status, -1):
        return False
    msg.status = status
    msg.error_code = error_code or msg.error_code
    return True


def _blocked_reason(msg: Message) -> str | None:
    texter = msg.conversation.texter
    if texter.opted_out and msg.kind != "opt_out_confirmation":
        return "opted-out"
    if texter.phone is None:
        return "no-number"
    return None


def deliver(message_id: int) -> Outcome:
    msg = db.session.get(Message, message_id)
    if msg is None:
        return Outcome("missing")
    if msg.status not in RESUMABLE:
        return Outcome(msg.status)  # already handed to Twilio: a repeated task does nothing
    now = utcnow()
    if msg.status == "submitting" and msg.submit_started_at and now - msg.submit_started_at < stale_after():
        # Another attempt may be live (or its worker was just killed): look again once it is stale.
        wait = (msg.submit_started_at + stale_after() - now).total_seconds()
        raise TransientFailure("an attempt is in flight", retry_in=wait + 0.5)
    blocked = _blocked_reason(msg)
    if blocked:
        _set_status(msg, "refused", blocked)
        return Outcome("refused")
    number = msg.conversation.texter.phone.number
    logs.sensitive(number, msg.body)
    if msg.status != "pending":
        known = set(db.session.scalars(select(Message.twilio_sid).where(
            Message.conversation_id == msg.conversation_id, Message.twilio_sid.is_not(None))))
        try:
            found = twilio_gateway.find_sent(number, msg.body, msg.submit_started_at or msg.created_at, known)
        except Exception as exc:
            raise TransientFailure(f"lookup failed: {exc}") from exc
        if found:
            _record_sid(msg, *found)
            return Outcome(msg.status)
    # Claim this attempt: only one worker can move (status, attempts) on from what it read.
    claimed = db.session.execute(
        update(Message)
        .where(Message.id == msg.id, Message.status == msg.status, Message.attempts == msg.attempts)
        .values(status="submitting", submit_started_at=now, attempts=msg.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return Outcome("raced")
    db.session.refresh(msg)
    try:
        sid, status = twilio_gateway.send_sms(number, msg.body)
    except Exception as exc:
        if twilio_gateway.is_permanent(exc):
            _set_status(msg, "failed", str(getattr(exc, "code", "") or "4xx"))
            return Outcome("failed")
        msg.status = "unconfirmed"
        db.session.commit()
        raise TransientFailure(str(exc)) from exc
    _record_sid(msg, sid, status)
    return Outcome(msg.status, sent_now=True)


def give_up(message_id: int) -> None:
    """Retries exhausted: mark it failed so the console shows it and a human can act."""
    msg = db.session.get(Message, message_id)
    if msg is not None and msg.status in RESUMABLE:
        _set_status(msg, "failed", "retries-exhausted")
        current_app.logger.error("outbound message %s failed after retries", message_id)


def record_receipt(sid: str, status: str, error_code: str | None) -> Message | None:
    """A Twilio status callback: keep it, and move the message forward if we know the SID."""
    db.session.add(DeliveryReceipt(twilio_sid=sid, status=status, error_code=error_code))
    msg = db.session.scalar(select(Message).where(Message.twilio_sid == sid))
    changed = msg is not None and advance(msg, status, error_code)
    db.session.commit()
    if changed:
        _publish_status(msg)
        if msg.status in ALERT_ON:
            alerts.delivery_failed(msg.conversation, msg.id, msg.error_code)
    return msg


def stuck_message_ids(older_than: timedelta) -> list[int]:
    """Outbox rows whose task was lost (broker wiped, enqueue failed): the sweep re-sends them."""
    cutoff = utcnow() - older_than
    stale = utcnow() - stale_after()
    rows = db.session.scalars(select(Message.id).where(
        Message.status.in_(RESUMABLE),
        Message.created_at < cutoff,
        (Message.status != "submitting") | (Message.submit_started_at < stale),
    ))
    return list(rows)
