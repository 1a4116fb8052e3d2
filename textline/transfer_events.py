"""Socket.IO events for passing a conversation to another volunteer (textline/transfer.py).

Open to every signed-in account (volunteers and up); transfer.py checks that the asker holds the
conversation or is an adult advisor. Answers go through the ack, as in socket_events.py.
"""
from __future__ import annotations

from flask_login import current_user

from textline import payloads, transfer
from textline.socket_events import action


def register(socketio) -> None:
    @socketio.on("transfer_targets")
    @action()
    def transfer_targets(data):
        return {"targets": transfer.targets(data.get("conversation_id"), current_user)}

    @socketio.on("transfer")
    @action()
    def transfer_conversation(data):
        conv, note = transfer.transfer(data.get("conversation_id"), current_user, data.get("volunteer_id"),
                                       data.get("note"))
        return {"conversation": payloads.conversation(conv), "note": payloads.note(note)}
