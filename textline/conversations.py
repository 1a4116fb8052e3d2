"""The life of a conversation: a text arrives, it waits in the queue, a volunteer claims it,
replies go out, it ends. SQL is written first (the record); Redis and the consoles are told after.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from textline import audit, escalation, inbound_rules, metrics, notices, payloads, survey, wrap_up
from textline import conversation_queue as queue
from textline.extensions import db
from textline.models import (
    ACTIVE, CLOSED, INBOUND, OUTBOUND, WAITING, Conversation, Message, Texter, TexterPhone, User, utcnow,
)
from textline.privacy import alias_for, normalise_number, phone_hash
from textline.realtime import SUPERVISORS, VOLUNTEERS, conversation_room, emit, user_room
from textline.risk import score_text

MAX_BODY = 1600  # Twilio's limit for one outbound message
# Set when this process could not update the Redis queue (Redis down): SQL has the record, and the
# web process's watcher (textline/web_upkeep.py) reconciles as soon as Redis answers again.
queue_out_of_date = threading.Event()
LEVELS = ("none", "low", "medium", "high")


class ConversationError(Exception):
    """A refused action, with a message fit to show the volunteer."""

    def __init__(self, message: str, code: str = "refused", field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field  # the form field it is about, if any


@dataclass
class Inbound:
    conversation: Conversation
    message: Message
    opened: bool = False          # a new conversation started with this message
    duplicate: bool = False       # Twilio retried a MessageSid we already have
    outbound: list[Message] = field(default_factory=list)  # automatic texts to send after commit
    escalations: list = field(default_factory=list)        # alerts to raise after commit
    needs_review: bool = False    # risk rose to medium: adults are told, nobody is paged
    closed_from: str | None = None  # the text closed the conversation (STOP); its status before


# ---- inbound ------------------------------------------------------------------------------------

def _texter_for(number: str) -> Texter:
    hashed = phone_hash(number, current_app.config["PHONE_HASH_KEY"])
    texter = db.session.scalar(select(Texter).where(Texter.phone_hash == hashed))
    if texter is None:
        texter = Texter(phone_hash=hashed, alias=alias_for(hashed))
        texter.phone = TexterPhone(number=normalise_number(number))
        db.session.add(texter)
        db.session.flush()
    elif texter.phone is None:  # erased on request earlier, and they texted again
        texter.phone = TexterPhone(number=normalise_number(number))
    return texter


def _open_conversation(texter: Texter, training: bool = False) -> tuple[Conversation, bool]:
    conv = db.session.scalar(
        select(Conversation).where(Conversation.texter_id == texter.id, Conversation.status != CLOSED)
    )
    if conv is not None:
        return conv, False
    now = utcnow()
    conv = Conversation(texter=texter, status=WAITING, opened_at=now, queued_at=now, priority=0,
                        risk_level="none", risk_reasons=[], training=training)
    db.session.add(conv)
    db.session.flush()
    return conv, True


def raise_risk(conv: Conversation, assessment: dict) -> bool:
    """A conversation's priority is the highest risk seen in it. Returns True if it went up."""
    reasons = list(conv.risk_reasons or [])
    for reason in assessment.get("reasons", []):
        if reason not in reasons:
            reasons.append(reason)
    conv.risk_reasons = reasons[:12]
    if assessment["score"] <= conv.priority:
        return False
    conv.priority = assessment["score"]
    conv.risk_level = assessment["level"]
    return True


def system_text(conv: Conversation, body: str, kind: str) -> Message:
    """An automatic text to the texter (welcome, crisis info, keyword answers), stored before it is sent."""
    msg = Message(conversation=conv, direction=OUTBOUND, author_kind="system", body=body, status="pending",
                  kind=kind)
    db.session.add(msg)
    return msg


def receive_inbound(number: str, body: str, message_sid: str, training: bool = False) -> Inbound:
    """Store one texter message durably. Safe to call again with the same MessageSid.

    `training` marks a conversation it opens as practice (simulator, training deployments only)."""
    existing = db.session.scalar(select(Message).where(Message.twilio_sid == message_sid))
    if existing is not None:
        return Inbound(existing.conversation, existing, duplicate=True)
    assessment = score_text(body).to_dict()
    for attempt in range(3):  # concurrent webhooks can race on the texter / open-conversation rows
        try:
            texter = _texter_for(number)
            texter.last_seen_at = utcnow()
            answer = survey.take_answer(texter, body, message_sid, assessment)
            if answer is not None:  # a score for the survey after a closed conversation: no new one
                db.session.commit()
                return answer
            conv, opened = _open_conversation(texter, training)
            msg = Message(conversation=conv, direction=INBOUND, author_kind="texter", body=body,
                          twilio_sid=message_sid, status="received", risk=assessment)
            db.session.add(msg)
            conv.last_inbound_at = msg.created_at = utcnow()
            if conv.status == ACTIVE and conv.awaiting_reply_since is None:
                conv.awaiting_reply_since = msg.created_at  # the volunteer's no-reply clock starts
            level_before = conv.risk_level
            raise_risk(conv, assessment)
            result = Inbound(conv, msg, opened=opened,
                             needs_review=conv.risk_level == "medium" and level_before in ("none", "low"))
            inbound_rules.apply(result, texter, assessment)  # keywords, automatic texts, risk escalation
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            existing = db.session.scalar(select(Message).where(Message.twilio_sid == message_sid))
            if existing is not None:
                return Inbound(existing.conversation, existing, duplicate=True)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def announce_inbound(result: Inbound) -> None:
    """After the commit: queue it, tell the consoles, hand automatic texts to the sender."""
    conv, msg = result.conversation, result.message
    for esc in result.escalations:  # first: a high-risk alert must not wait for anything else
        escalation.announce(esc)
    if result.needs_review and not result.escalations:
        notices.review_needed(conv)
    if conv.status == WAITING:
        try:
            queue.enqueue(conv.id, conv.priority, conv.queued_at)
        except RedisError as exc:  # stored in SQL already: the webhook must still answer 200
            queue_out_of_date.set()
            current_app.logger.warning("queue unavailable, conversation %s will be queued when Redis returns: %s",
                                       conv.id, exc)
        publish_queue()
    emit("message", payloads.message(msg), to=[conversation_room(conv.id), SUPERVISORS])
    if result.closed_from is not None:
        after_close(conv, was_waiting=result.closed_from == WAITING)
    elif conv.status != WAITING:
        emit("conversation", payloads.conversation(conv), to=[conversation_room(conv.id), SUPERVISORS])
    dispatch(*result.outbound)


# ---- the queue ----------------------------------------------------------------------------------

def queue_snapshot() -> list[dict]:
    """Waiting conversations in queue order (Redis decides the order; SQL supplies the details)."""
    ids = queue.ordered_ids()
    if not ids:
        return []
    convs = {c.id: c for c in db.session.scalars(select(Conversation).where(Conversation.id.in_(ids)))}
    counts = dict(db.session.execute(
        select(Message.conversation_id, func.count()).where(
            Message.conversation_id.in_(ids), Message.direction == INBOUND).group_by(Message.conversation_id)
    ).all())
    out = []
    for cid in ids:
        conv = convs.get(cid)
        if conv is not None and conv.status == WAITING:
            out.append({**payloads.conversation(conv), "inbound_count": counts.get(cid, 0)})
    return out


def publish_queue() -> None:
    """Tell the consoles. Called after SQL has committed, so Redis being down must not fail the caller."""
    try:
        snapshot = queue_snapshot()
    except RedisError as exc:
        queue_out_of_date.set()
        current_app.logger.warning("queue unavailable, consoles will be updated when Redis returns: %s", exc)
        return
    emit("queue", snapshot, to=[VOLUNTEERS, SUPERVISORS])


def _queue_state_in_sql() -> tuple[list[tuple], list[tuple]]:
    """What Redis should hold: waiting = (id, priority, queued_at), held = (id, volunteer_id)."""
    waiting = db.session.execute(
        select(Conversation.id, Conversation.priority, Conversation.queued_at).where(Conversation.status == WAITING)
    ).all()
    held = db.session.execute(
        select(Conversation.id, Conversation.volunteer_id).where(
            Conversation.status == ACTIVE, Conversation.volunteer_id.is_not(None))
    ).all()
    return [tuple(w) for w in waiting], [tuple(h) for h in held]


def rebuild_queue() -> int:
    """Make Redis agree with SQL (after a Redis restart or outage). Returns the queue length."""
    waiting, held = _queue_state_in_sql()
    queue.rebuild(waiting, held)
    queue_out_of_date.clear()
    return len(waiting)


def reconcile_queue() -> int:
    """Repair Redis from SQL without disturbing live claims: add conversations SQL says are waiting or
    held that Redis lacks, drop ones SQL says have ended. Safe from any process at any time (beat runs
    it periodically; web processes run it at start and when Redis comes back). Returns the changes."""
    changed = queue.restore(*_queue_state_in_sql())
    loads = queue.held()
    known = set(queue.ordered_ids(limit=100_000)).union(*loads.values())
    still_open = set(db.session.scalars(select(Conversation.id).where(
        Conversation.id.in_(known), Conversation.status != CLOSED))) if known else set()
    changed += queue.forget(known - still_open, loads)
    db.session.commit()  # end the read transaction
    queue_out_of_date.clear()
    if changed:
        publish_queue()
    return changed


# ---- volunteer actions --------------------------------------------------------------------------

def get_conversation(conversation_id) -> Conversation:
    try:
        conv = db.session.get(Conversation, int(conversation_id))
    except (TypeError, ValueError):
        conv = None
    if conv is None:
        raise ConversationError("That conversation does not exist.", "not_found")
    return conv


def claim(conversation_id, user: User) -> Conversation:
    conv = get_conversation(conversation_id)
    if conv.status != WAITING:
        raise ConversationError("Someone else already took this conversation.", "taken")
    capacity = 0 if user.is_supervisor else user.capacity
    won = queue.claim(conv.id, user.id, capacity)
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
    publish_queue()
    emit("conversation", payloads.conversation(conv), to=[conversation_room(conv.id), SUPERVISORS,
                                                          user_room(user.id)])
    return conv


def reply(conversation_id, user: User, body, idempotency_key: str | None = None) -> Message:
    from textline.permissions import can_reply

    conv = get_conversation(conversation_id)
    if not can_reply(user, conv):
        raise ConversationError("You can only write in conversations you are handling.", "forbidden")
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ConversationError("Write a message first.", "empty")
    if len(body) > MAX_BODY:
        raise ConversationError(f"That message is too long ({len(body)} characters, {MAX_BODY} at most).",
                                "too_long")
    if idempotency_key:
        key = str(idempotency_key)[:64]
        existing = db.session.scalar(select(Message).where(Message.idempotency_key == key))
        if existing is not None:
            return existing  # the console re-sent after a reconnect: stored and sent once
    else:
        key = None
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
        return db.session.scalar(select(Message).where(Message.idempotency_key == key))
    emit("message", payloads.message(msg), to=[conversation_room(conv.id), SUPERVISORS])
    dispatch(msg)
    if user.is_supervisor:  # an adult writing to the texter has joined: that answers every alert
        acked = adult_joins(conv, user, now)
        audit.record("conversation.adult_reply", user, "conversation", conv.id, commit=False)
        db.session.commit()
        announce_adult(conv, acked)
    return msg


def adult_joins(conv: Conversation, user: User, now=None) -> list:
    """An adult advisor is now in the conversation (in the caller's transaction): no automatic crisis
    text after this, and every open escalation of it is acknowledged. Returns those, to announce."""
    if conv.adult_joined_at is None:
        conv.adult_joined_at, conv.adult_id = now or utcnow(), user.id
    return escalation.acknowledge_all(conv, user)


def announce_adult(conv: Conversation, acknowledged: list) -> None:
    emit("conversation", payloads.conversation(conv), to=[conversation_room(conv.id), SUPERVISORS])
    for esc in acknowledged:
        escalation.announce(esc)


def end(conversation_id, user: User, disposition, note: str | None) -> Conversation:
    """A person ends a conversation. A volunteer must give a complete wrap-up (textline/wrap_up.py);
    an adult at least the outcome. Refused with the reason otherwise, and nothing changes."""
    from textline.permissions import can_view

    conv = get_conversation(conversation_id)
    if not can_view(user, conv):
        raise ConversationError("You can only end conversations you are handling.", "forbidden")
    recorded = wrap_up.read(conv.disposition)
    system_closed = conv.status == CLOSED and recorded.by == "system" and recorded.outcome == "opted_out"
    if conv.status == CLOSED and not (system_closed and conv.volunteer_id == user.id):
        return conv  # ended already (another tab, an adult): nothing more to record
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
    was_waiting = conv.status == WAITING
    conv.status = CLOSED
    conv.closed_at = utcnow()
    conv.closed_by_id = by.id if by else None
    conv.disposition = disposition or conv.disposition
    conv.wrap_up_note = (note or "").strip()[:4000] or conv.wrap_up_note
    survey_text = survey.offer(conv, ended_by=by)
    db.session.commit()
    after_close(conv, was_waiting)
    if survey_text is not None:
        dispatch(survey_text)


def after_close(conv: Conversation, was_waiting: bool) -> None:
    """After the commit that closed it: out of the queue or off the volunteer's load, consoles told."""
    try:
        queue.remove(conv.id) if was_waiting else queue.release(conv.id, conv.volunteer_id)
    except RedisError as exc:  # closed in SQL: reconcile drops it from Redis later
        queue_out_of_date.set()
        current_app.logger.warning("queue unavailable while closing conversation %s: %s", conv.id, exc)
    if was_waiting:
        publish_queue()
    emit("conversation", payloads.conversation(conv), to=[conversation_room(conv.id), SUPERVISORS])


def hand_back_all(volunteer_id: int, reason: str) -> list[int]:
    """Return a volunteer's conversations to the queue (they vanished past the grace period).

    They go back at the front for their risk level (queued_at = when the texter first wrote), and
    the adults are told. Conditional updates make overlapping sweeps harmless."""
    moved = []
    convs = db.session.scalars(select(Conversation).where(
        Conversation.volunteer_id == volunteer_id, Conversation.status == ACTIVE)).all()
    for conv in convs:
        done = db.session.execute(
            update(Conversation).where(Conversation.id == conv.id, Conversation.status == ACTIVE,
                                       Conversation.volunteer_id == volunteer_id)
            .values(status=WAITING, volunteer_id=None, claimed_at=None, queued_at=conv.opened_at)
        ).rowcount
        if done:
            audit.record("conversation.requeue", None, "conversation", conv.id, commit=False,
                         reason=reason, volunteer_id=volunteer_id)
            moved.append(conv.id)
    db.session.commit()
    for cid in moved:
        conv = db.session.get(Conversation, cid)
        db.session.refresh(conv)
        try:
            queue.release(cid, volunteer_id)
            queue.enqueue(cid, conv.priority, conv.queued_at)
        except RedisError as exc:  # handed back in SQL: reconcile queues it when Redis answers
            queue_out_of_date.set()
            current_app.logger.warning("queue unavailable while handing back conversation %s: %s", cid, exc)
        emit("conversation", payloads.conversation(conv), to=[conversation_room(cid), SUPERVISORS,
                                                              user_room(volunteer_id)])
        notices.requeued(conv, reason)
    if moved:
        publish_queue()
    return moved


# ---- sending ------------------------------------------------------------------------------------

def dispatch(*msgs: Message) -> None:
    """Hand stored outbound messages to the Celery sender. Several (a welcome, then crisis information)
    go as a chain, so the texter reads them in the order they were written, whichever workers run them.
    If the broker is unreachable the rows stay "pending" and the outbox sweep sends them later: nothing
    is lost."""
    from celery import chain

    from workers.outbound import send_message

    if not msgs:
        return
    try:
        if len(msgs) == 1:
            send_message.delay(msgs[0].id)
        else:
            chain(*(send_message.si(m.id) for m in msgs)).delay()
    except Exception:
        current_app.logger.exception("could not enqueue outbound messages %s; the sweep will retry",
                                     [m.id for m in msgs])
