"""A conversation's life after its first text: a volunteer claims it from the queue, replies go out,
an adult may join, it ends (with a wrap-up) or goes back to the queue. Arriving texts are
textline/texting/inbound.py. SQL is written first (the record); Redis and the consoles are told after.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from textline import broadcast
from textline.accounts import audit
from textline.accounts.permissions import can_reply, can_view
from textline.console import wrap_up
from textline.extensions import db
from textline.models import ACTIVE, BLOCKED, CLOSED, OUTBOUND, WAITING, Conversation, Message, User, utcnow
from textline.ops import metrics
from textline.ops.request_args import whole_number
from textline.safety import deadlines, escalation, notices, timers
from textline.texting import outgoing, queue, queue_sync, survey
from textline.texting.outgoing import MAX_BODY
from textline.wellbeing import board, care, limits


class ConversationError(Exception):
    """A refused action, with a message fit to show the volunteer."""

    def __init__(self, message: str, code: str = "refused", field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field  # the form field it is about, if any


def get_conversation(conversation_id) -> Conversation:
    conv_id = whole_number(conversation_id)
    conv = db.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None:
        raise ConversationError("That conversation does not exist.", "not_found")
    return conv


def claim(conversation_id, user: User) -> Conversation:
    conv = get_conversation(conversation_id)
    if conv.status != WAITING:
        raise ConversationError("Someone else already took this conversation.", "taken")
    capacity = 0 if user.is_supervisor else user.capacity
    refused = None if user.is_supervisor else limits.refusal(user, conv.risk_level)
    if refused:
        raise ConversationError(*refused)
    won, seq = queue.claim(conv.id, user.id, capacity)
    if won == queue.PAUSED:
        raise ConversationError("You are taking a pause. Press “I'm ready to go on” when you want "
                                "texters again.", "paused")
    if won == queue.AT_CAPACITY:
        raise ConversationError(f"You already have {capacity} conversations open.", "at_capacity")
    if won == queue.GONE:
        raise ConversationError("Someone else already took this conversation.", "taken")
    now = utcnow()
    updated = db.session.execute(
        update(Conversation).where(Conversation.id == conv.id, Conversation.status == WAITING)
        .values(status=ACTIVE, volunteer_id=user.id, claimed_at=now, awaiting_reply_since=now)
    ).rowcount
    db.session.commit()
    if not updated:  # closed (e.g. STOP) between our read and the claim
        queue.release(conv.id, user.id)
        raise ConversationError("This conversation has just ended.", "taken")
    db.session.refresh(conv)
    metrics.observe_wait((now - conv.queued_at).total_seconds())
    queue_sync.claimed(conv.id, seq)
    broadcast.conversation_changed(conv, user.id)
    timers.schedule(deadlines.next_for(conv))
    board.publish()
    return conv


def reply(conversation_id, user: User, body, idempotency_key: str | None = None) -> Message:
    conv = get_conversation(conversation_id)
    if not can_reply(user, conv):
        raise _why_not_reply(user, conv)
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ConversationError("Write a message first.", "empty")
    if len(body) > MAX_BODY:
        raise ConversationError(f"That message is too long ({len(body)} characters, {MAX_BODY} at most).",
                                "too_long")
    key = str(idempotency_key)[:64] if idempotency_key else None
    if key:
        existing = _resent(conv, user, key)
        if existing is not None:
            return existing  # the console re-sent after a reconnect: stored and sent once
    now = utcnow()
    msg = Message(conversation=conv, direction=OUTBOUND, author_kind="supervisor" if user.is_supervisor
                  else "volunteer", author_id=user.id, body=body, status="pending", idempotency_key=key,
                  created_at=now)
    db.session.add(msg)
    conv.last_reply_at = now
    conv.first_reply_at = conv.first_reply_at or now
    conv.awaiting_reply_since = None
    try:
        db.session.commit()
    except IntegrityError:  # the same key raced in from two tabs
        db.session.rollback()
        return _resent(conv, user, key)
    broadcast.message_added(msg)
    outgoing.send(msg)
    if user.is_supervisor:  # an adult writing to the texter has joined: that answers every alert
        acked = adult_joins(conv, user, now)
        audit.record("conversation.adult_reply", user, "conversation", conv.id, commit=False)
        db.session.commit()
        announce_adult(conv, acked)
    return msg


def _why_not_reply(user: User, conv: Conversation) -> ConversationError:
    if not can_view(user, conv):
        return ConversationError("You can only write in conversations you are handling.", "forbidden")
    if conv.texter.opted_out:
        return ConversationError("The texter opted out (they texted STOP): nothing more can be sent to them.",
                                 "opted_out")
    return ConversationError("This conversation has ended: nothing more can be sent in it.", "ended")


def _resent(conv: Conversation, user: User, key: str) -> Message | None:
    """The reply this console already sent with that key: keys are the sender's own, per conversation."""
    return db.session.scalar(select(Message).where(Message.conversation_id == conv.id, Message.author_id == user.id,
                                                   Message.idempotency_key == key))


def adult_joins(conv: Conversation, user: User, now=None) -> list:
    """An adult advisor is now in the conversation (in the caller's transaction): no automatic crisis
    text after this, and every open escalation of it is acknowledged. Returns those, to announce."""
    if conv.adult_joined_at is None:
        conv.adult_joined_at, conv.adult_id = now or utcnow(), user.id
    return escalation.acknowledge_all(conv, user)


def announce_adult(conv: Conversation, acknowledged: list) -> None:
    broadcast.conversation_changed(conv)
    for esc in acknowledged:
        escalation.announce(esc)


def end(conversation_id, user: User, disposition, note: str | None) -> Conversation:
    """A person ends a conversation. A volunteer must give a complete wrap-up (textline/console/wrap_up.py);
    an adult at least the outcome. Refused with the reason otherwise, and nothing changes."""
    conv = get_conversation(conversation_id)
    if not can_view(user, conv):
        raise ConversationError("You can only end conversations you are handling.", "forbidden")
    if conv.status == CLOSED and not (wrap_up.owed(conv) and conv.volunteer_id == user.id):
        return conv  # ended already (another tab, an adult, their wrap-up written): nothing more to record
    try:
        disposition = wrap_up.validate(disposition, by_adult=user.is_supervisor)
    except wrap_up.WrapUpError as exc:
        raise ConversationError(str(exc), "wrap_up", exc.field) from None
    if conv.status == CLOSED:  # STOP closed it under the volunteer: their wrap-up is still recorded
        conv.disposition = wrap_up.after_system_close(conv.disposition, disposition)
        conv.wrap_up_note = (note or "").strip()[:4000] or conv.wrap_up_note
        db.session.commit()
        return conv
    if user.is_supervisor:
        audit.record("conversation.end", user, "conversation", conv.id, commit=False,
                     was_volunteer_id=conv.volunteer_id if conv.volunteer_id != user.id else None)
    close(conv, by=user, disposition=disposition, note=note)
    return conv


def close(conv: Conversation, by: User | None = None, disposition: dict | None = None,
          note: str | None = None) -> None:
    """Close it now. People go through end() (which checks the wrap-up); the server's own closes (erasure)
    pass wrap_up.system(...)."""
    was_waiting, was_blocked = conv.status == WAITING, conv.status == BLOCKED
    conv.status = CLOSED
    conv.closed_at = utcnow()
    conv.closed_by_id = by.id if by else None
    conv.disposition = disposition or conv.disposition
    conv.wrap_up_note = (note or "").strip()[:4000] or conv.wrap_up_note
    # A blocked texter gets no survey: their one automatic reply a day is all (textline/blocklist/).
    survey_text = None if was_blocked else survey.offer(conv, ended_by=by)
    db.session.commit()
    after_close(conv, was_waiting)
    if survey_text is not None:
        outgoing.send(survey_text)


def after_close(conv: Conversation, was_waiting: bool) -> None:
    """After the commit that closed it: out of the queue or off the volunteer's load, consoles told."""
    if was_waiting:
        queue_sync.remove(conv.id, f"closed conversation {conv.id} leaves Redis at the next repair")
    else:
        with queue_sync.after_commit(f"closed conversation {conv.id} leaves its volunteer's load at the next repair"):
            queue.release(conv.id, conv.volunteer_id)
    broadcast.conversation_changed(conv)
    if not was_waiting:
        care.after_close(conv)  # a hard one: its volunteer is offered a pause


def hand_back_all(volunteer_id: int, reason: str, only: set[int] | None = None) -> list[int]:
    """Return a volunteer's conversations to the queue (they vanished past the grace period), or `only`
    some of them (an adult sent one back after "I need a moment").

    They go back at the front for their risk level (queued_at = when the texter first wrote), and
    the adults are told; their wait alert counts from now (a new wait). Conditional updates make
    overlapping sweeps harmless."""
    moved, now = [], utcnow()
    held = select(Conversation).where(Conversation.volunteer_id == volunteer_id, Conversation.status == ACTIVE)
    convs = db.session.scalars(held if only is None else held.where(Conversation.id.in_(only))).all()
    for conv in convs:
        done = db.session.execute(
            update(Conversation).where(Conversation.id == conv.id, Conversation.status == ACTIVE,
                                       Conversation.volunteer_id == volunteer_id)
            .values(status=WAITING, volunteer_id=None, claimed_at=None, queued_at=conv.opened_at,
                    waiting_since=now)
        ).rowcount
        if done:
            audit.record("conversation.requeue", None, "conversation", conv.id, commit=False,
                         reason=reason, volunteer_id=volunteer_id)
            moved.append(conv.id)
    db.session.commit()
    for cid in moved:
        conv = db.session.get(Conversation, cid)
        db.session.refresh(conv)
        with queue_sync.after_commit(f"conversation {cid} is queued again when Redis returns"):
            queue.release(cid, volunteer_id)
        queue_sync.enqueue(conv, f"conversation {cid} is queued again when Redis returns")
        broadcast.holder_changed(cid, volunteer_id)
        broadcast.conversation_changed(conv, volunteer_id)
        notices.requeued(conv, reason)
        timers.schedule(deadlines.next_for(conv))
    return moved
