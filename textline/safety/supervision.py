"""What adult advisors do from the supervisor dashboard (/supervise), and the volunteer's "Ask an adult".

Every supervisor action is recorded with audit.record (never a message body). Permission checks live
in textline/accounts/permissions.py; the socket events (textline/safety/sockets.py) call these after
the role check.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from textline import broadcast, payloads
from textline.accounts import audit
from textline.accounts.permissions import can_ask_adult, can_supervise
from textline.extensions import db
from textline.models import ACTIVE, BLOCKED, CLOSED, WAITING, Conversation, ConversationNote, Escalation, User
from textline.safety import danger, escalation
from textline.texting import conversations, queue
from textline.texting.conversations import ConversationError, adult_joins, announce_adult, get_conversation
from textline.wellbeing import care

MAX_NOTE = 2000


def _supervised(conversation_id, user: User, open_only: bool = True) -> Conversation:
    conv = get_conversation(conversation_id)
    if not can_supervise(user, conv):
        raise ConversationError("Only adult advisors can do that.", "forbidden")
    if open_only and conv.status == CLOSED:
        raise ConversationError("This conversation has ended.", "closed")
    return conv


def snapshot(user: User) -> dict:
    """Everything the dashboard shows: every live conversation and every alert still on the board."""
    audit.record("dashboard.view", user)
    convs = db.session.scalars(select(Conversation).where(Conversation.status != CLOSED)
                               .order_by(Conversation.id)).all()
    return {"conversations": [payloads.conversation(c) for c in convs],
            "alerts": [payloads.alert(e) for e in danger.in_order(escalation.unresolved())]}


def watch(conversation_id, user: User) -> Conversation:
    """Read a transcript live (any conversation, ended ones too): recorded, because it is a look."""
    conv = _supervised(conversation_id, user, open_only=False)
    audit.record("conversation.view", user, "conversation", conv.id)
    return conv


def acknowledge(escalation_id, user: User) -> Escalation:
    try:
        esc = db.session.get(Escalation, int(escalation_id))
    except (TypeError, ValueError):
        esc = None
    if esc is None:
        raise ConversationError("That alert does not exist.", "not_found")
    if not can_supervise(user, esc.conversation):
        raise ConversationError("Only adult advisors can acknowledge alerts.", "forbidden")
    first = escalation.acknowledge(esc, user)
    audit.record("escalation.acknowledge", user, "escalation", esc.id, commit=False,
                 conversation_id=esc.conversation_id, reason=esc.reason, first=first)
    db.session.commit()
    if first:
        escalation.announce(esc)
    return esc


def whisper(conversation_id, user: User, body, client_id=None) -> ConversationNote:
    """A private note to the volunteer. Stored as a note, never a Message: it cannot reach the texter."""
    conv = _supervised(conversation_id, user)
    body = body.strip() if isinstance(body, str) else ""
    if not body:
        raise ConversationError("Write a note first.", "empty")
    if len(body) > MAX_NOTE:
        raise ConversationError(f"That note is too long ({len(body)} characters, {MAX_NOTE} at most).", "too_long")
    key = str(client_id)[:64] if client_id else None
    if key:
        existing = _resent_note(conv, user, key)
        if existing is not None:
            return existing
    note = ConversationNote(conversation_id=conv.id, author_id=user.id, body=body, idempotency_key=key)
    db.session.add(note)
    audit.record("conversation.whisper", user, "conversation", conv.id, commit=False,
                 volunteer_id=conv.volunteer_id)
    try:
        db.session.commit()
    except IntegrityError:  # the same note re-sent from a reconnecting console
        db.session.rollback()
        return _resent_note(conv, user, key)
    broadcast.whisper_added(note, conv)
    return note


def _resent_note(conv: Conversation, user: User, key: str) -> ConversationNote | None:
    """The note this dashboard already sent with that key: keys are the author's own, per conversation."""
    return db.session.scalar(select(ConversationNote).where(
        ConversationNote.conversation_id == conv.id, ConversationNote.author_id == user.id,
        ConversationNote.idempotency_key == key))


def join(conversation_id, user: User) -> Conversation:
    """The adult joins: the volunteer and texter conversation now has an adult in it. The supervisor
    writes to the texter with the ordinary reply (conversations.reply allows supervisors)."""
    conv = _supervised(conversation_id, user)
    acked = adult_joins(conv, user)
    audit.record("conversation.join", user, "conversation", conv.id, commit=False, volunteer_id=conv.volunteer_id)
    db.session.commit()
    announce_adult(conv, acked)
    return conv


def take_over(conversation_id, user: User) -> Conversation:
    """The supervisor becomes the conversation's handler; the volunteer is released and told."""
    conv = _supervised(conversation_id, user)
    if conv.status == BLOCKED:
        raise ConversationError("This texter is blocked: join as an adult to write to them, or lift the block "
                                "so their conversation joins the queue.", "blocked")
    if conv.status == WAITING:  # nobody holds it yet: taking over is claiming it
        conv = conversations.claim(conv.id, user)
        acked = adult_joins(conv, user)
        audit.record("conversation.take_over", user, "conversation", conv.id, commit=False, volunteer_id=None)
        db.session.commit()
        announce_adult(conv, acked)
        return conv
    previous = conv.volunteer_id
    if previous == user.id:
        return conv
    moved = db.session.execute(
        update(Conversation).where(Conversation.id == conv.id, Conversation.status == ACTIVE,
                                   Conversation.volunteer_id == previous)
        .values(volunteer_id=user.id, awaiting_reply_since=None).execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        raise ConversationError("The conversation changed hands just now; look again.", "raced")
    db.session.refresh(conv)
    acked = adult_joins(conv, user)
    audit.record("conversation.take_over", user, "conversation", conv.id, commit=False, volunteer_id=previous)
    db.session.commit()
    queue.release(conv.id, previous)
    queue.hold(conv.id, user.id)
    broadcast.holder_changed(conv.id, previous)
    announce_adult(conv, acked)
    if previous is not None:
        broadcast.taken_over(conv, user, previous)
        care.after_take_over(conv, previous)
    return conv


def ask_adult(conversation_id, user: User) -> Escalation:
    """The volunteer's "Ask an adult" button."""
    conv = get_conversation(conversation_id)
    if not can_ask_adult(user, conv):
        raise ConversationError("You can only ask for an adult in a conversation you are handling.", "forbidden")
    esc, created = escalation.ask_adult(conv, user)
    db.session.commit()
    if created:
        escalation.announce(esc)
    return esc

