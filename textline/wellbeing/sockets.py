"""The wellbeing Socket.IO events, joined into the consoles' namespace (textline/console/sockets.py):
a volunteer's own state, "I'm ready to go on", "I need a moment" and the check-out; the adults' panel,
debriefs, and sending a conversation back to the queue. Each checks the role first (@action)."""
from __future__ import annotations

from flask_login import current_user

from textline import payloads
from textline.console.actions import action
from textline.models import Role
from textline.wellbeing import board, care, checkout, debriefs, moment, status
from textline.wellbeing import work  # noqa: F401  (registers its sources on the adults' work list)

SUPERVISOR = Role.SUPERVISOR.value


class WellbeingEvents:
    @action()
    def on_wellbeing(self, data):
        return {"wellbeing": status.for_volunteer(current_user)}

    @action()
    def on_ready_to_go_on(self, data):
        care.ready(current_user)
        return {"wellbeing": status.for_volunteer(current_user)}

    @action()
    def on_need_moment(self, data):
        handed = moment.need_moment(current_user, data.get("note"))
        return {"handed": handed, "wellbeing": status.for_volunteer(current_user)}

    @action()
    def on_check_out(self, data):
        row, task = checkout.check_out(current_user, data.get("feeling"), data.get("wants_adult"))
        return {"me": payloads.me(current_user), "debrief": task is not None}

    @action(SUPERVISOR)
    def on_volunteer_board(self, data):
        return board.snapshot()

    @action(SUPERVISOR)
    def on_debrief_take(self, data):
        return {"debrief": payloads.debrief(debriefs.take(data.get("debrief_id"), current_user))}

    @action(SUPERVISOR)
    def on_debrief_done(self, data):
        return {"debrief": payloads.debrief(debriefs.done(data.get("debrief_id"), current_user))}

    @action(SUPERVISOR)
    def on_hand_back(self, data):
        return {"conversation": payloads.conversation(moment.hand_back(data.get("conversation_id"), current_user))}
