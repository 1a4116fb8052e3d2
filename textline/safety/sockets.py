"""The supervisor dashboard's Socket.IO events, and the volunteer's "Ask an adult": handler methods
joined into the consoles' namespace (textline/console/sockets.py).

Each checks the role first (@action), then the domain code checks conversation access
(textline/accounts/permissions.py).
"""
from __future__ import annotations

from flask_login import current_user

from textline import broadcast, payloads
from textline.console.actions import action
from textline.models import Role
from textline.blocklist import blocks
from textline.safety import supervision
from textline.texting import returning
from textline.triage import labels

SUPERVISOR = Role.SUPERVISOR.value


class SupervisionEvents:
    @action(SUPERVISOR)
    def on_supervise_snapshot(self, data):
        return supervision.snapshot(current_user)

    @action(SUPERVISOR)
    def on_watch(self, data):
        conv = supervision.watch(data.get("conversation_id"), current_user)
        broadcast.following(conv.id)
        return {**payloads.transcript(conv), "history": returning.history(conv), "block": blocks.summary(conv),
                "labels": labels.summary(conv)}

    @action(SUPERVISOR)
    def on_acknowledge(self, data):
        return {"alert": payloads.alert(supervision.acknowledge(data.get("escalation_id"), current_user))}

    @action(SUPERVISOR)
    def on_whisper(self, data):
        note = supervision.whisper(data.get("conversation_id"), current_user, data.get("body"),
                                   data.get("client_id"))
        return {"note": payloads.note(note)}

    @action(SUPERVISOR)
    def on_adult_join(self, data):
        conv = supervision.join(data.get("conversation_id"), current_user)
        broadcast.following(conv.id)
        return {"conversation": payloads.conversation(conv)}

    @action(SUPERVISOR)
    def on_take_over(self, data):
        conv = supervision.take_over(data.get("conversation_id"), current_user)
        broadcast.following(conv.id)
        return payloads.transcript(conv)

    @action()
    def on_ask_adult(self, data):
        return {"escalation": payloads.escalation_notice(supervision.ask_adult(data.get("conversation_id"),
                                                                                current_user))}
