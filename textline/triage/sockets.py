"""The dashboard's one-click risk labels: a handler method joined into the consoles' namespace
(textline/console/sockets.py)."""
from __future__ import annotations

from flask_login import current_user

from textline.console.actions import action
from textline.models import Role
from textline.triage import labels


class TriageEvents:
    @action(Role.SUPERVISOR.value)
    def on_risk_label(self, data):
        """{conversation_id, message_id (none: the whole conversation), verdict (none: clear)}."""
        return {"labels": labels.set_label(data.get("conversation_id"), data.get("message_id"), data.get("verdict"),
                                           current_user), "conversation_id": data.get("conversation_id")}
