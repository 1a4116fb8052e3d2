"""Socket.IO events for passing a conversation to another volunteer (textline/console/transfer.py):
handler methods joined into the consoles' namespace (textline/console/sockets.py).

Open to every signed-in account (volunteers and up); transfer.py checks that the asker holds the
conversation or is an adult advisor.
"""
from __future__ import annotations

from flask_login import current_user

from textline import payloads
from textline.console import transfer
from textline.console.actions import action


class TransferEvents:
    @action()
    def on_transfer_targets(self, data):
        return {"targets": transfer.targets(data.get("conversation_id"), current_user)}

    @action()
    def on_transfer(self, data):
        conv, note = transfer.transfer(data.get("conversation_id"), current_user, data.get("volunteer_id"),
                                       data.get("note"))
        return {"conversation": payloads.conversation(conv), "note": payloads.note(note)}
