"""The dashboard's language correction: a handler method joined into the consoles' namespace
(textline/console/sockets.py)."""
from __future__ import annotations

from flask_login import current_user

from textline import payloads
from textline.console.actions import action
from textline.models import Role
from textline.texting import language_override


class LanguageEvents:
    @action(Role.SUPERVISOR.value)
    def on_set_language(self, data):
        """{conversation_id, language: "en" | "es"}: adults only."""
        conv = language_override.set_language(data.get("conversation_id"), data.get("language"), current_user)
        return {"conversation": payloads.conversation(conv)}
