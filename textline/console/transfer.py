"""Passing a conversation to another on-shift volunteer, with a handover note.

The volunteer holding it (or an adult advisor) picks a colleague who is on shift, connected and under
capacity. Redis decides capacity atomically, as a claim does (queue.transfer); SQL is then
moved with a conditional update, so a conversation that changed hands or ended meanwhile is refused and
the reservation undone. The note is a private ConversationNote (kind "transfer"), never an SMS: the
texter notices nothing. The old volunteer's consoles leave the conversation's room (and permissions.py
refuses them from then on), the new one's join it, and the adults get a notice.
"""
from __future__ import annotations

from sqlalchemy import select, update

from textline import broadcast, payloads
from textline.accounts import audit, presence
from textline.accounts.permissions import can_transfer
from textline.extensions import db
from textline.models import ACTIVE, CLOSED, TRANSFER_NOTE, Conversation, ConversationNote, Role, User
from textline.ops.request_args import whole_number
from textline.safety import notices
from textline.safety.supervision import MAX_NOTE
from textline.texting import queue
from textline.texting.conversations import ConversationError, get_conversation


def _transferable(conversation_id, user: User) -> Conversation:
    conv = get_conversation(conversation_id)
    if conv.status == CLOSED:
        raise ConversationError("This conversation has ended.", "closed")
    if not can_transfer(user, conv):
        raise ConversationError("You can only transfer a conversation you are handling.", "forbidden")
    return conv


def _on_shift_volunteers() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == Role.VOLUNTEER.value, User.active.is_(True), User.on_shift.is_(True)).order_by(User.display_name)))


def targets(conversation_id, user: User) -> list[dict]:
    """Who the conversation could go to now: on-shift volunteers with a console open and room to spare,
    other than whoever holds it and the asker."""
    conv = _transferable(conversation_id, user)
    people = [v for v in _on_shift_volunteers() if v.id not in (conv.volunteer_id, user.id)]
    load = queue.loads([v.id for v in people])
    here = presence.present_among(v.id for v in people if load[v.id] < v.capacity)
    return [payloads.transfer_target(v, load[v.id]) for v in people if v.id in here]


def _target(target_id, conv: Conversation) -> User:
    target_id = whole_number(target_id)
    target = db.session.get(User, target_id) if target_id is not None else None
    if target is None or not target.active or target.role != Role.VOLUNTEER.value:
        raise ConversationError("Choose a volunteer to pass this conversation to.", "no_target")
    if target.id == conv.volunteer_id:
        raise ConversationError(f"{target.display_name} already has this conversation.", "same_person")
    if not target.on_shift or not presence.is_present(target.id):
        raise ConversationError(f"{target.display_name} is not on shift right now.", "off_shift")
    return target


def _note_body(note) -> str:
    body = note.strip() if isinstance(note, str) else ""
    if not body:
        raise ConversationError("Write a short handover note for your colleague.", "empty")
    if len(body) > MAX_NOTE:
        raise ConversationError(f"That note is too long ({len(body)} characters, {MAX_NOTE} at most).", "too_long")
    return body


def transfer(conversation_id, user: User, target_id, note) -> tuple[Conversation, ConversationNote]:
    conv = _transferable(conversation_id, user)
    target = _target(target_id, conv)
    body = _note_body(note)
    previous, previous_user = conv.volunteer_id, conv.volunteer
    if queue.transfer(conv.id, previous, target.id, target.capacity) != queue.MOVED:
        raise ConversationError(f"{target.display_name} already has {target.capacity} conversations open.",
                                "at_capacity")
    try:
        moved = db.session.execute(
            update(Conversation).where(Conversation.id == conv.id, Conversation.status == ACTIVE,
                                       Conversation.volunteer_id == previous)
            .values(volunteer_id=target.id).execution_options(synchronize_session=False)
        ).rowcount
        if moved:
            n = ConversationNote(conversation_id=conv.id, author_id=user.id, body=body, kind=TRANSFER_NOTE,
                                 recipient_id=target.id)
            db.session.add(n)
            audit.record("conversation.transfer", user, "conversation", conv.id, commit=False,
                         from_volunteer_id=previous, to_volunteer_id=target.id)
            db.session.commit()
    except Exception:  # SQL failed: it still says the previous volunteer holds it, so Redis must too
        db.session.rollback()
        queue.release(conv.id, target.id)
        if previous is not None:
            queue.hold(conv.id, previous)
        raise
    if not moved:  # ended or changed hands since we read it: whoever did that set the loads right
        db.session.rollback()
        queue.release(conv.id, target.id)
        raise ConversationError("The conversation changed hands or ended just now; look again.", "raced")
    db.session.refresh(conv)
    broadcast.conversation_transferred(conv, n, user, previous)
    notices.transferred(conv, user.display_name, previous_user.display_name if previous_user else None,
                        conv.volunteer.display_name)
    return conv, n

