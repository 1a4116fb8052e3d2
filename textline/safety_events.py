"""Socket.IO events of the supervisor dashboard and the volunteer's "Ask an adult".

Each handler checks the role first (textline/access.py), then the domain code checks conversation
access (textline/permissions.py). Answers go through the ack, as in socket_events.py.
"""
from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room

from textline import payloads, supervision
from textline.models import Role
from textline.realtime import conversation_room
from textline.socket_events import action

SUPERVISOR = Role.SUPERVISOR.value


def register(socketio) -> None:
    @socketio.on("supervise_snapshot")
    @action(SUPERVISOR)
    def supervise_snapshot(data):
        return supervision.snapshot(current_user)

    @socketio.on("watch")
    @action(SUPERVISOR)
    def watch(data):
        conv = supervision.watch(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("acknowledge")
    @action(SUPERVISOR)
    def acknowledge(data):
        return {"alert": payloads.alert(supervision.acknowledge(data.get("escalation_id"), current_user))}

    @socketio.on("whisper")
    @action(SUPERVISOR)
    def whisper(data):
        note = supervision.whisper(data.get("conversation_id"), current_user, data.get("body"),
                                   data.get("client_id"))
        return {"note": payloads.note(note)}

    @socketio.on("adult_join")
    @action(SUPERVISOR)
    def join(data):
        conv = supervision.join(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return {"conversation": payloads.conversation(conv)}

    @socketio.on("take_over")
    @action(SUPERVISOR)
    def take_over(data):
        conv = supervision.take_over(data.get("conversation_id"), current_user)
        join_room(conversation_room(conv.id))
        return payloads.transcript(conv)

    @socketio.on("ask_adult")
    @action()
    def ask_adult(data):
        return {"escalation": payloads.escalation_notice(supervision.ask_adult(data.get("conversation_id"),
                                                                                current_user))}
