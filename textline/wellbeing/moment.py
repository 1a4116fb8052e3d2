""""I need a moment": the volunteer hands their open conversations to the adults with a short note and is
paused. Each conversation gets an "asked" alert (acknowledged, paged if nobody answers) and the note;
the adult decides on the dashboard: take it over, or send it back to the front of the queue."""
from __future__ import annotations

from sqlalchemy import select

from textline import broadcast
from textline.accounts import audit
from textline.extensions import db
from textline.models import ACTIVE, Conversation, ConversationNote, User
from textline.safety import escalation, notices
from textline.texting import conversations
from textline.texting.conversations import ConversationError, get_conversation
from textline.wellbeing import board, care

MAX_NOTE = 500
MOMENT_NOTE = "moment"  # ConversationNote.kind: the volunteer's note to the adults


def need_moment(user: User, note) -> list[int]:
    """Returns the conversations handed to the adults."""
    note = (note.strip() if isinstance(note, str) else "")[:MAX_NOTE]
    convs = db.session.scalars(select(Conversation).where(
        Conversation.volunteer_id == user.id, Conversation.status == ACTIVE).order_by(Conversation.id)).all()
    raised, notes = [], []
    for conv in convs:
        notes.append(ConversationNote(conversation_id=conv.id, author_id=user.id, kind=MOMENT_NOTE,
                                      body=f"{user.display_name} needs a moment. {note}".strip()))
        db.session.add(notes[-1])
        esc, created = escalation.ask_adult(conv, user)
        if created:
            raised.append(esc)
    audit.record("wellbeing.moment", user, "user", user.id, commit=False, conversations=[c.id for c in convs])
    db.session.commit()
    for esc in raised:
        escalation.announce(esc)
    for n in notes:
        broadcast.moment_noted(n)
    held = f"{len(convs)} conversation{'' if len(convs) == 1 else 's'}" if convs else "no open conversations"
    notices.notify_supervisors(
        "moment", f"{user.display_name} needs a moment ({held}). Take each over or send it back to the queue."
        + (f' Their note: "{note}"' if note else ""), level="warning", volunteer_id=user.id)
    care.pause(user, "moment")
    return [c.id for c in convs]


def hand_back(conversation_id, adult: User) -> Conversation:
    """The adult's other choice: the conversation goes back to the front of the queue for its risk level."""
    conv = get_conversation(conversation_id)
    if conv.status != ACTIVE or conv.volunteer_id is None:
        raise ConversationError("Only a conversation someone is handling can go back to the queue.", "not_held")
    volunteer_id = conv.volunteer_id
    if not conversations.hand_back_all(volunteer_id, "adult_hand_back", only={conv.id}):
        raise ConversationError("The conversation changed hands just now; look again.", "raced")
    audit.record("conversation.hand_back", adult, "conversation", conv.id, volunteer_id=volunteer_id)
    db.session.refresh(conv)
    board.publish()
    return conv
