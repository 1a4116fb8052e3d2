"""Texts the line sends: stored first (the outbox), handed to the sender after the commit.

The sending itself is textline/texting/delivery.py, run by a Celery task (textline/tasks.py)."""
from __future__ import annotations

from textline import tasks
from textline.extensions import db
from textline.models import OUTBOUND, Conversation, Message

MAX_BODY = 1600  # Twilio's limit for one outbound message


def system_text(conv: Conversation, body: str, kind: str) -> Message:
    """An automatic text to the texter (welcome, crisis info, keyword answers), stored before it is sent."""
    msg = Message(conversation=conv, direction=OUTBOUND, author_kind="system", body=body, status="pending",
                  kind=kind)
    db.session.add(msg)
    return msg


def send(*msgs: Message) -> None:
    """Hand stored outbound messages to the sender, after the commit. Several (a welcome, then crisis
    information) reach the texter in the order they were written. If the broker is unreachable the rows
    stay "pending" and the outbox sweep sends them later: nothing is lost."""
    tasks.send_texts(*(m.id for m in msgs))
