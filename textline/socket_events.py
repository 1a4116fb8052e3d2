"""Socket.IO events of the console. Each handler checks who is asking, then calls the domain code."""
from __future__ import annotations

from functools import wraps

from flask import request
from flask_login import current_user
from flask_socketio import emit, join_room
from redis.exceptions import RedisError
from sqlalchemy import select

from textline import conversations, payloads, web_upkeep
from textline.conversations import ConversationError
from textline.extensions import db
from textline.models import ACTIVE, Conversation
from textline.permissions import can_view
from textline.realtime import SUPERVISORS, VOLUNTEERS, conversation_room, user_room


def action(handler):
    """Socket actions answer through the ack: {"ok": true, ...} or {"ok": false, "error": "..."}."""

    @wraps(handler)
    def wrapper(data=None):
        if not current_user.is_authenticated:
            return {"ok": False, "error": "Please sign in again.", "code": "unauthenticated"}
        try:
            return {"ok": True, **(handler(data if isinstance(data, dict) else {}) or {})}
        except ConversationError as exc:
            db.session.rollback()
            return {"ok": False, "error": str(exc), "code": exc.code}
        except RedisError:  # the queue is briefly unreachable; nothing was changed that SQL lacks
            db.session.rollback()
            return {"ok": False, "error": "The queue is briefly unavailable. Try again in a moment.",
                    "code": "unavailable"}

    return wrapper


def _my_conversations() -> list[dict]:
    rows = db.session.scalars(select(Conversation).where(
        Conversation.volunteer_id == current_user.id, Conversation.status == ACTIVE).order_by(Conversation.id))
    return [payloads.conversation(c) for c in rows]


def register(socketio, app) -> None:
    @socketio.on("connect")
    def connect(auth=None):
        if not current_user.is_authenticated:
            return False  # refuses the connection
        join_room(user_room(current_user.id))
        join_room(SUPERVISORS if current_user.is_supervisor else VOLUNTEERS)
        for conv in _my_conversations():
            join_room(conversation_room(conv["id"]))
        try:
            waiting = conversations.queue_snapshot()
        except RedisError:  # Redis is down: the console still opens; the queue arrives when it is back
            waiting = []
        emit("hello", {
            "me": {"id": current_user.id, "name": current_user.display_name, "role": current_user.role},
            "queue": waiting,
            "mine": _my_conversations(),
        })
        web_upkeep.client_connected(request.sid)

    @socketio.on("disconnect")
    def disconnect(*_):
        web_upkeep.client_disconnected(request.sid)

    @socketio.on("claim")
    @action
    def claim(data):
        conv = conversations.claim(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("open")
    @action
    def open_conversation(data):
        conv = conversations.get_conversation(data.get("conversation_id"))
        if not can_view(current_user, conv):
            raise ConversationError("That conversation is not yours to open.", "forbidden")
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("reply")
    @action
    def reply(data):
        msg = conversations.reply(data.get("conversation_id"), current_user, data.get("body"),
                                  data.get("client_id"))
        return {"message": payloads.message(msg)}

    @socketio.on("end")
    @action
    def end(data):
        disposition = data.get("disposition") if isinstance(data.get("disposition"), dict) else None
        conv = conversations.end(data.get("conversation_id"), current_user, disposition, data.get("note"))
        return {"conversation": payloads.conversation(conv)}
