"""Socket.IO events of the console. Each handler checks who is asking, then calls the domain code.

Access rules: any signed-in account may connect; volunteers see the queue and may claim only while
on shift; a conversation's transcript is open to its volunteer and to adults (permissions.py).
"""
from __future__ import annotations

from functools import wraps

from flask import request
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room
from redis.exceptions import RedisError
from sqlalchemy import select

from textline import audit, conversations, payloads, presence, web_upkeep
from textline.access import has_role
from textline.conversations import ConversationError
from textline.extensions import db
from textline.models import ACTIVE, Conversation, Role, utcnow
from textline.permissions import can_view
from textline.realtime import SUPERVISORS, VOLUNTEERS, conversation_room, user_room


def action(role: str = Role.VOLUNTEER.value):
    """Socket actions answer through the ack: {"ok": true, ...} or {"ok": false, "error": "..."}."""

    def decorator(handler):
        @wraps(handler)
        def wrapper(data=None):
            if not current_user.is_authenticated:
                return {"ok": False, "error": "Please sign in again.", "code": "unauthenticated"}
            if not has_role(current_user, role):
                return {"ok": False, "error": "Only adult advisors can do that.", "code": "forbidden"}
            try:
                return {"ok": True, **(handler(data if isinstance(data, dict) else {}) or {})}
            except ConversationError as exc:
                db.session.rollback()
                return {"ok": False, "error": str(exc), "code": exc.code,
                        **({"field": exc.field} if exc.field else {})}
            except RedisError:  # the queue is briefly unreachable; nothing was changed that SQL lacks
                db.session.rollback()
                return {"ok": False, "error": "The queue is briefly unavailable. Try again in a moment.",
                        "code": "unavailable"}

        return wrapper

    return decorator


def _my_conversations() -> list[dict]:
    rows = db.session.scalars(select(Conversation).where(
        Conversation.volunteer_id == current_user.id, Conversation.status == ACTIVE).order_by(Conversation.id))
    return [payloads.conversation(c) for c in rows]


def sees_queue(user) -> bool:
    """Adults always watch the queue; volunteers only while on shift."""
    return user.is_supervisor or user.on_shift


def me() -> dict:
    return {"id": current_user.id, "name": current_user.display_name, "role": current_user.role,
            "on_shift": current_user.on_shift, "capacity": current_user.capacity}


def register(socketio, app) -> None:
    @socketio.on("connect")
    def connect(auth=None):
        if not current_user.is_authenticated:
            return False  # refuses the connection
        try:
            presence.connected(current_user.id, request.sid)
        except RedisError:  # Redis is down: the console still opens; presence resumes with heartbeats
            pass
        join_room(user_room(current_user.id))
        if current_user.is_supervisor:
            join_room(SUPERVISORS)
        elif current_user.on_shift:
            join_room(VOLUNTEERS)
        mine = _my_conversations()
        for conv in mine:
            join_room(conversation_room(conv["id"]))
        try:
            waiting = conversations.queue_snapshot() if sees_queue(current_user) else []
        except RedisError:  # Redis is down: the console still opens; the queue arrives when it is back
            waiting = []
        emit("hello", {"me": me(), "mine": mine, "heartbeat_seconds": max(1, presence.socket_ttl() // 3),
                       "queue": waiting})
        web_upkeep.client_connected(request.sid)

    @socketio.on("disconnect")
    def disconnect(*_args):
        web_upkeep.client_disconnected(request.sid)
        if current_user.is_authenticated:
            try:
                presence.disconnected(current_user.id, request.sid)
            except RedisError:  # the socket key expires on its own
                pass

    @socketio.on("heartbeat")
    def heartbeat(_data=None):
        if not current_user.is_authenticated:
            return {"ok": False}
        try:
            presence.heartbeat(current_user.id, request.sid)
        except RedisError:
            return {"ok": False}
        return {"ok": True}

    @socketio.on("shift")
    @action()
    def shift(data):
        on = bool(data.get("on"))
        if on != current_user.on_shift:
            current_user.on_shift = on
            current_user.shift_started_at = utcnow() if on else None
            audit.record("shift_start" if on else "shift_end", current_user, "user", current_user.id)
        if not current_user.is_supervisor:  # every tab of this volunteer, on any web process
            move = join_room if on else leave_room
            presence.for_each_socket(current_user.id, lambda sid: move(VOLUNTEERS, sid=sid, namespace="/"))
        return {"me": me(), "queue": conversations.queue_snapshot() if sees_queue(current_user) else []}

    @socketio.on("claim")
    @action()
    def claim(data):
        if not sees_queue(current_user):
            raise ConversationError("Go on shift to take conversations.", "off_shift")
        conv = conversations.claim(data.get("conversation_id"), current_user)
        audit.record("conversation.claim", current_user, "conversation", conv.id)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("open")
    @action()
    def open_conversation(data):
        conv = conversations.get_conversation(data.get("conversation_id"))
        if not can_view(current_user, conv):
            raise ConversationError("That conversation is not yours to open.", "forbidden")
        audit.record("conversation.view", current_user, "conversation", conv.id)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("reply")
    @action()
    def reply(data):
        msg = conversations.reply(data.get("conversation_id"), current_user, data.get("body"),
                                  data.get("client_id"))
        return {"message": payloads.message(msg)}

    @socketio.on("end")
    @action()
    def end(data):
        conv = conversations.end(data.get("conversation_id"), current_user, data.get("disposition"),
                                 data.get("note"))
        return {"conversation": payloads.conversation(conv)}
