"""The dashboard's "Block texter" action: a handler method joined into the consoles' namespace
(textline/console/sockets.py). Changing and lifting blocks are forms on the review page (views.py)."""
from __future__ import annotations

from flask_login import current_user

from textline import payloads
from textline.blocklist import blocks
from textline.console.actions import action
from textline.models import Role
from textline.texting import conversations


class BlocklistEvents:
    @action(Role.SUPERVISOR.value)
    def on_block_texter(self, data):
        entry = blocks.block(data.get("conversation_id"), current_user, data.get("reason"), data.get("days"))
        conv = conversations.get_conversation(entry.conversation_id)
        return {"conversation": payloads.conversation(conv), "block": blocks.summary(conv)}
