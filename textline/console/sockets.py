"""The consoles' Socket.IO namespace ("/"): one small class of handler methods per area, joined into
one Namespace. A method `on_<event>` handles the event; each checks who is asking (@action), then calls
the domain code, which checks conversation access (textline/accounts/permissions.py).

Access rules: any signed-in account may connect; volunteers see the queue and may claim only while
on shift; a conversation's transcript is open to its volunteer and to adults.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_socketio import Namespace, disconnect
from redis.exceptions import RedisError
from sqlalchemy import select

from textline import broadcast, payloads
from textline.accounts import audit, presence, sessions, shifts
from textline.accounts.permissions import can_view
from textline.console import wrap_up
from textline.console.actions import action
from textline.console.transfer_events import TransferEvents
from textline.duty.sockets import DutyEvents
from textline.extensions import db
from textline.models import ACTIVE, CLOSED, Conversation
from textline.ops import web_upkeep
from textline.safety.sockets import SupervisionEvents
from textline.blocklist.sockets import BlocklistEvents
from textline.texting import conversations, queue_sync, returning
from textline.texting.conversations import ConversationError
from textline.triage.sockets import TriageEvents
from textline.console.language_events import LanguageEvents
from textline.wellbeing.sockets import WellbeingEvents


def _my_conversations() -> list[dict]:
    """What the volunteer holds, and those the server closed under them that still owe a wrap-up."""
    rows = db.session.scalars(select(Conversation).where(
        Conversation.volunteer_id == current_user.id,
        (Conversation.status == ACTIVE) | (Conversation.status == CLOSED) & Conversation.closed_by_id.is_(None))
        .order_by(Conversation.id))
    return [payloads.conversation(c) for c in rows if c.status == ACTIVE or wrap_up.owed(c)]


def _queue_for_me() -> dict:
    """{"seq", "rows"}: the whole queue for those who see it (on-shift volunteers and adults)."""
    return queue_sync.queue_state() if shifts.sees_queue(current_user) else {"seq": 0, "rows": []}


class ConnectionEvents:
    """A console's socket: who it is, that it is still there, and its shift."""

    def on_connect(self, auth=None):
        if not current_user.is_authenticated:
            return False  # refuses the connection
        try:
            presence.connected(current_user.id, request.sid)
            sessions.socket_opened(request.sid)
        except RedisError:  # Redis is down: the console still opens; presence resumes with heartbeats
            pass
        mine = _my_conversations()
        broadcast.console_connected(current_user, mine)
        try:
            waiting = _queue_for_me()
        except RedisError:  # Redis is down: the console still opens; the queue arrives when it is back
            waiting = {"seq": 0, "rows": []}
        broadcast.hello(current_user, mine, waiting, max(1, presence.socket_ttl() // 3))
        web_upkeep.client_connected(request.sid)

    def on_disconnect(self, *_args):
        web_upkeep.client_disconnected(request.sid)
        user_id = sessions.cookie_user_id()  # also when the session has just ended (signed out)
        if user_id is not None:
            try:
                presence.disconnected(user_id, request.sid)
                sessions.socket_closed(request.sid)
            except RedisError:  # the socket key expires on its own
                pass

    def on_heartbeat(self, _data=None):
        if not current_user.is_authenticated:  # signed out, timed out, or deactivated: cut it
            disconnect()
            return {"ok": False}
        try:
            presence.heartbeat(current_user.id, request.sid)
        except RedisError:
            return {"ok": False}
        return {"ok": True}

    @action()
    def on_shift(self, data):
        shifts.set_on_shift(current_user, bool(data.get("on")))
        state = _queue_for_me()
        return {"me": payloads.me(current_user), "queue": state["rows"], "queue_seq": state["seq"]}

    @action()
    def on_queue_sync(self, _data):
        """A console missed a numbered change to the queue (textline/static/js/queue-view.js): the whole
        queue again, as of its SEQ."""
        state = _queue_for_me()
        return {"queue": state["rows"], "queue_seq": state["seq"]}


class ConversationEvents:
    """A volunteer's conversations: claim one from the queue, open, reply, end."""

    @action()
    def on_claim(self, data):
        if not shifts.sees_queue(current_user):
            raise ConversationError("Go on shift to take conversations.", "off_shift")
        conv = conversations.claim(data.get("conversation_id"), current_user)
        audit.record("conversation.claim", current_user, "conversation", conv.id)
        broadcast.following(conv.id)
        return {**payloads.transcript(conv), "history": returning.history(conv)}

    @action()
    def on_open(self, data):
        conv = conversations.get_conversation(data.get("conversation_id"))
        if not can_view(current_user, conv):
            raise ConversationError("That conversation is not yours to open.", "forbidden")
        audit.record("conversation.view", current_user, "conversation", conv.id)
        broadcast.following(conv.id)
        return {**payloads.transcript(conv), "history": returning.history(conv)}

    @action()
    def on_reply(self, data):
        msg = conversations.reply(data.get("conversation_id"), current_user, data.get("body"),
                                  data.get("client_id"))
        return {"message": payloads.message(msg)}

    @action()
    def on_end(self, data):
        conv = conversations.end(data.get("conversation_id"), current_user, data.get("disposition"),
                                 data.get("note"))
        return {"conversation": payloads.conversation(conv)}


class ConsoleNamespace(ConnectionEvents, ConversationEvents, SupervisionEvents, TransferEvents, WellbeingEvents,
                       DutyEvents, BlocklistEvents, TriageEvents, LanguageEvents, Namespace):
    """Every console event, volunteers' and adults'."""
