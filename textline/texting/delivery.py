"""Outbound SMS: the state machine that gets one message to Twilio exactly once.

Two kinds of row go through it (an `Outbox` says what differs): texts to texters (Message) and pages
to adult advisors' phones (Page). Every outbound message is first stored (status "pending", the outbox)
and only then handed to a Celery task. An attempt claims the row with an optimistic update, calls Twilio, and records the
MessageSid. If an attempt ended without an answer (timeout, 5xx, worker killed), the next attempt
first asks Twilio whether the message went out, because Twilio's Messages API has no idempotency
key: that lookup is what keeps a retry from texting a young person twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import select, update

from textline import broadcast
from textline.extensions import db
from textline.models import (
    CLOSED, DELIVERY_RANK, OUTBOUND, WAITING, Conversation, DeliveryReceipt, Message, Page, utcnow,
)
from textline.models.upsert import insert_for
from textline.ops import logs, metrics
from textline.safety import notices
from textline.texting import conversations, inbound_rules, twilio_gateway
from textline.texting.privacy import WHATSAPP

log = logging.getLogger(__name__)
# Final states that mean the text will not arrive; "refused" is ours (opted out) and expected.
NOT_DELIVERED = ("failed", "undelivered")
# Twilio: "Attempt to send to unsubscribed recipient". The carrier or Twilio itself blocked the texter
# (they opted out outside our line): they are opted out here as a STOP would.
UNSUBSCRIBED = "21610"
# WhatsApp allows free-form replies only this long after the texter's last message (templates aside).
WHATSAPP_WINDOW = timedelta(hours=24)


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


@dataclass(frozen=True)
class Outbox:
    """What differs between kinds of outbound SMS. The row type has the delivery columns (status,
    error_code, twilio_sid, attempts, submit_started_at, body, created_at)."""

    name: str
    model: type
    number: Callable            # row -> the phone number to text, or None
    blocked: Callable           # row -> why it must not be sent ("opted-out", ...), or None
    known_sids: Callable        # row -> SIDs of ours already sent to that number (not this row)
    publish: Callable           # row -> None: tell the consoles the new status
    not_delivered: Callable     # row -> None: tell the adults it will not arrive
    ours: tuple = ()            # conditions on rows the line sent: receipts apply to nothing else


def _message_number(msg: Message) -> str | None:
    phone = msg.conversation.texter.phone
    return phone.number if phone else None


def _message_blocked(msg: Message) -> str | None:
    conv = msg.conversation
    texter = conv.texter
    if texter.opted_out and msg.kind != "opt_out_confirmation":
        return "opted-out"
    if texter.phone is None:
        return "no-number"
    if twilio_gateway.sender_for(conv.channel) is None:
        return "no-sender"
    if conv.channel == WHATSAPP and utcnow() - (conv.last_inbound_at or conv.opened_at) > WHATSAPP_WINDOW:
        return "whatsapp-24h"
    return None


def _message_sids(msg: Message) -> set[str]:
    return set(db.session.scalars(select(Message.twilio_sid).where(
        Message.conversation_id == msg.conversation_id, Message.twilio_sid.is_not(None))))


def _message_not_delivered(msg: Message) -> None:
    notices.delivery_failed(msg.conversation, msg.id, msg.error_code)
    if msg.error_code == UNSUBSCRIBED:
        _opted_out_by_carrier(msg.conversation.texter, msg.conversation)


def _opted_out_by_carrier(texter, conv: Conversation) -> None:
    """As STOP does: opted out, their open conversation closed as opted out, consoles told. Later
    replies are refused by the sender ("opted-out") instead of failing at the carrier one by one."""
    open_conv = db.session.scalar(select(Conversation).where(
        Conversation.texter_id == texter.id, Conversation.status != CLOSED)) or conv
    closed_from = inbound_rules.opt_out(texter, open_conv, utcnow(), "carrier")
    db.session.commit()
    if closed_from != CLOSED:
        conversations.after_close(open_conv, was_waiting=closed_from == WAITING)


def _page_number(page: Page) -> str | None:
    return page.user.pager_phone or None


def _page_blocked(page: Page) -> str | None:
    if not page.user.active:
        return "inactive"  # deactivated between the page being written and sent
    return None if page.user.pager_phone else "no-number"


def _page_sids(page: Page) -> set[str]:
    return set(db.session.scalars(select(Page.twilio_sid).where(
        Page.user_id == page.user_id, Page.twilio_sid.is_not(None))))


def _page_not_delivered(page: Page) -> None:
    notices.page_failed(page.escalation.conversation, page.user.display_name, page.error_code)


MESSAGES = Outbox("message", Message, _message_number, _message_blocked, _message_sids,
                  broadcast.message_status_changed, _message_not_delivered, ours=(Message.direction == OUTBOUND,))
PAGES = Outbox("page", Page, _page_number, _page_blocked, _page_sids, broadcast.page_changed, _page_not_delivered)
OUTBOXES = (MESSAGES, PAGES)


def _changed(outbox: Outbox, row) -> None:
    """After the commit that moved a row's delivery state: consoles told; adults told if it will not
    arrive, whichever path learned it (our send, a callback, a callback that came before the SID)."""
    outbox.publish(row)
    if row.status in NOT_DELIVERED:
        outbox.not_delivered(row)


def _set_status(outbox: Outbox, row, status: str, error_code: str | None = None) -> None:
    row.status = status
    row.error_code = error_code
    db.session.commit()
    _changed(outbox, row)


def _record_sid(outbox: Outbox, row, sid: str, status: str) -> None:
    """Store Twilio's answer, then apply any status callbacks that arrived before we knew the SID."""
    row.twilio_sid = sid
    row.status = status
    for receipt in db.session.scalars(select(DeliveryReceipt).where(DeliveryReceipt.twilio_sid == sid)):
        advance(row, receipt.status, receipt.error_code)
    db.session.commit()
    metrics.inc("messages" if outbox is MESSAGES else "pages", "out")  # once, whichever attempt sent it
    log.info("text accepted by Twilio", extra={f"{outbox.name}_id": row.id, "attempts": row.attempts,
                                              "status": status})
    _changed(outbox, row)


def advance(msg, status: str, error_code: str | None = None) -> bool:
    """Move delivery state forward only: callbacks can arrive out of order."""
    if DELIVERY_RANK.get(status, -1) <= DELIVERY_RANK.get(msg.status, -1):
        if status == msg.status and not msg.error_code:
            msg.error_code = error_code  # the state we had (from a lookup), now with Twilio's reason
        return False
    msg.status = status
    msg.error_code = error_code or msg.error_code
    return True


def deliver(row_id: int, outbox: Outbox = MESSAGES) -> Outcome:
    model = outbox.model
    msg = db.session.get(model, row_id)
    if msg is None:
        return Outcome("missing")
    if msg.status not in RESUMABLE:
        return Outcome(msg.status)  # already handed to Twilio: a repeated task does nothing
    now = utcnow()
    if msg.status == "submitting" and msg.submit_started_at and now - msg.submit_started_at < stale_after():
        # Another attempt may be live (or its worker was just killed): look again once it is stale.
        wait = (msg.submit_started_at + stale_after() - now).total_seconds()
        raise TransientFailure("an attempt is in flight", retry_in=wait + 0.5)
    blocked = outbox.blocked(msg)
    if blocked:
        _set_status(outbox, msg, "refused", blocked)
        return Outcome("refused")
    number = outbox.number(msg)
    logs.sensitive(number, msg.body)  # never in a log line, whatever goes wrong below
    if msg.status != "pending":
        known = outbox.known_sids(msg)
        try:
            found = twilio_gateway.find_sent(number, msg.body, msg.submit_started_at or msg.created_at, known)
        except Exception as exc:
            raise TransientFailure(f"lookup failed: {exc}") from exc
        if found:
            _record_sid(outbox, msg, *found)
            return Outcome(msg.status)
    # Claim this attempt: only one worker can move (status, attempts) on from what it read.
    claimed = db.session.execute(
        update(model)
        .where(model.id == msg.id, model.status == msg.status, model.attempts == msg.attempts)
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
            _set_status(outbox, msg, "failed", str(getattr(exc, "code", "") or "4xx"))
            return Outcome("failed")
        msg.status = "unconfirmed"
        db.session.commit()
        raise TransientFailure(str(exc)) from exc
    _record_sid(outbox, msg, sid, status)
    return Outcome(msg.status, sent_now=True)


def give_up(row_id: int, outbox: Outbox = MESSAGES) -> None:
    """Retries exhausted: mark it failed so the console shows it and a human can act."""
    msg = db.session.get(outbox.model, row_id)
    if msg is not None and msg.status in RESUMABLE:
        _set_status(outbox, msg, "failed", "retries-exhausted")
        current_app.logger.error("outbound %s %s failed after retries", outbox.name, row_id)


def _keep_receipt(sid: str, status: str, error_code: str | None) -> None:
    """Each (SID, status) once: Twilio retries callbacks, and a retry adds nothing."""
    db.session.execute(insert_for(db.session, DeliveryReceipt).values(
        twilio_sid=sid, status=status, error_code=error_code, received_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["twilio_sid", "status"]))


def record_receipt(sid: str, status: str, error_code: str | None):
    """A Twilio status callback: keep it, and move the text or page forward if we sent that SID (a
    callback naming a texter's own message changes nothing)."""
    _keep_receipt(sid, status, error_code)
    for outbox in OUTBOXES:
        row = db.session.scalar(select(outbox.model).where(outbox.model.twilio_sid == sid, *outbox.ours))
        if row is not None:
            break
    changed = row is not None and advance(row, status, error_code)
    db.session.commit()
    if changed:
        _changed(outbox, row)
    return row


def catch_up(sid: str) -> None:
    """A row that got its SID after Twilio's callbacks for it were kept (a page sent from the spool,
    recorded when the drain stored its text): apply them, as _record_sid does for our own sends."""
    for outbox in OUTBOXES:
        row = db.session.scalar(select(outbox.model).where(outbox.model.twilio_sid == sid, *outbox.ours))
        if row is not None:
            break
    else:
        return
    receipts = db.session.scalars(select(DeliveryReceipt).where(DeliveryReceipt.twilio_sid == sid)).all()
    changed = [advance(row, r.status, r.error_code) for r in receipts]
    db.session.commit()
    if any(changed):
        _changed(outbox, row)


def stuck_ids(older_than: timedelta, outbox: Outbox = MESSAGES) -> list[int]:
    """Outbox rows whose task was lost (broker wiped, enqueue failed): the sweep re-sends them."""
    model = outbox.model
    cutoff = utcnow() - older_than
    stale = utcnow() - stale_after()
    rows = db.session.scalars(select(model.id).where(
        model.status.in_(RESUMABLE),
        model.created_at < cutoff,
        (model.status != "submitting") | (model.submit_started_at < stale),
    ))
    return list(rows)


def stuck_message_ids(older_than: timedelta) -> list[int]:
    return stuck_ids(older_than, MESSAGES)
