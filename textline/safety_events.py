"""Socket.IO events of the supervisor dashboard and the volunteer's "Ask an adult".

Each handler checks the role first (textline/access.py), then the domain code checks conversation
access (textline/permissions.py). Answers go through the ack, as in socket_events.py.
"""
from __future__ import annotations

from functools import wraps

from flask_login import current_user
from flask_socketio import join_room

from textline import payloads, supervision
from textline.access import has_role
from textline.models import Role
from textline.realtime import conversation_room
from textline.socket_events import action


def requires(role: str, refusal: str):
    """Refuse the event (through the ack) unless the user holds at least `role`."""

    def decorator(handler):
        @wraps(handler)
        def wrapper(data):
            if not has_role(current_user, role):
                return {"ok": False, "error": refusal, "code": "forbidden"}
            return handler(data)

        return wrapper

    return decorator


def register(socketio) -> None:
    supervisor = requires(Role.SUPERVISOR.value, "Only adult advisors can do that.")
    volunteer = requires(Role.VOLUNTEER.value, "Only text line volunteers can do that.")

    @socketio.on("supervise_snapshot")
    @action
    @supervisor
    def supervise_snapshot(data):
        return supervision.snapshot(current_user)

    @socketio.on("watch")
    @action
    @supervisor
    def watch(data):
        conv = supervision.watch(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("acknowledge")
    @action
    @supervisor
    def acknowledge(data):
        return {"alert": payloads.alert(supervision.acknowledge(data.get("escalation_id"), current_user))}

    @socketio.on("whisper")
    @action
    @supervisor
    def whisper(data):
        note = supervision.whisper(data.get("conversation_id"), current_user, data.get("body"),
                                   data.get("client_id"))
        return {"note": payloads.note(note)}

    @socketio.on("adult_join")
    @action
    @supervisor
    def join(data):
        conv = supervision.join(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return {"conversation": payloads.conversation(conv)}

    @socketio.on("take_over")
    @action
    @supervisor
    def take_over(data):
        conv = supervision.take_over(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("ask_adult")
    @action
    @volunteer
    def ask_adult(data):
        return {"escalation": payloads.escalation_notice(supervision.ask_adult(data.get("conversation_id"),
                                                                                current_user))}
