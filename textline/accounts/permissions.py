"""Who may see and do what with a conversation. Every HTTP route and socket event asks here."""
from __future__ import annotations

from textline.models import Conversation, MessageMedia, User


def can_view(user: User, conv: Conversation) -> bool:
    return user.is_supervisor or conv.volunteer_id == user.id


def can_reply(user: User, conv: Conversation) -> bool:
    return conv.status != "closed" and can_view(user, conv)


def can_supervise(user: User, conv: Conversation) -> bool:
    """Read any transcript, whisper, join, take over, acknowledge its alerts: adult advisors only."""
    return user.is_supervisor


def can_ask_adult(user: User, conv: Conversation) -> bool:
    """"Ask an adult" belongs to whoever is handling the (open) conversation."""
    return can_reply(user, conv)


def can_transfer(user: User, conv: Conversation) -> bool:
    """Passing an open conversation to another volunteer: whoever holds it, or an adult advisor."""
    return conv.status == "active" and (user.is_supervisor or conv.volunteer_id == user.id)


def can_see_media(user: User, item: MessageMedia, adult_first: bool) -> bool:
    """A texter's picture: adults, and the conversation's volunteer; with adults first (MEDIA_ADULT_FIRST),
    the volunteer only once an adult has looked at it."""
    if not can_view(user, item.message.conversation):
        return False
    return user.is_supervisor or not adult_first or item.adult_viewed_at is not None
