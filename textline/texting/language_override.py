"""An adult corrects a conversation's language when the detector got it wrong or has not decided yet
(a texter who wrote "hola" then "ok"): the automatic texts, the badge, who is offered it first and the
no-speaker alert follow the adult's choice from then on. Audited; the consoles and dashboards are told."""
from __future__ import annotations

from textline import broadcast
from textline.accounts import audit
from textline.extensions import db
from textline.models import CLOSED, WAITING, User
from textline.texting import language, queue_sync
from textline.texting.conversations import ConversationError, get_conversation


def set_language(conversation_id, code, user: User):
    """Set the conversation's language to `code` (one the line supports). Returns the conversation."""
    if code not in language.SUPPORTED:
        names = " or ".join(language.NAMES[c] for c in language.SUPPORTED)
        raise ConversationError(f"Choose {names}.", "refused")
    conv = get_conversation(conversation_id)
    if conv.status == CLOSED:
        raise ConversationError("This conversation has ended.", "closed")
    previous = conv.language
    if previous == code:
        return conv
    conv.language = code
    audit.record("conversation.language", user, "conversation", conv.id, commit=False, language=code,
                 previous=previous)
    db.session.commit()
    broadcast.conversation_changed(conv, *([conv.volunteer_id] if conv.volunteer_id else []))
    if conv.status == WAITING:
        queue_sync.publish_queue_item(conv)  # the same place in the queue, a new badge
    return conv
