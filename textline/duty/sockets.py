"""The adults' work list over Socket.IO: a handler method joined into the consoles' namespace
(textline/console/sockets.py). Adults only (@action checks the role first)."""
from __future__ import annotations

from textline.console.actions import action
from textline.duty import work_list
from textline.models import Role


class DutyEvents:
    @action(Role.SUPERVISOR.value)
    def on_work_list(self, data):
        return {"items": [item.to_dict() for item in work_list.items()]}
