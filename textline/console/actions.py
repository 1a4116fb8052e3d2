"""How a console's actions answer: through the Socket.IO ack, {"ok": true, ...} or {"ok": false,
"error": "...", "code": "..."}, after checking who is asking."""
from __future__ import annotations

from functools import wraps

from flask_login import current_user
from redis.exceptions import RedisError

from textline.accounts import sessions
from textline.accounts.access import has_role
from textline.extensions import DATABASE_ERRORS, db
from textline.models import Role
from textline.texting.conversations import ConversationError


def action(role: str = Role.VOLUNTEER.value):
    """A handler method for a console action open to `role` and up. It gets the event's data as a dict."""

    def decorator(handler):
        @wraps(handler)
        def wrapper(self, data=None):
            if not current_user.is_authenticated:
                return {"ok": False, "error": "Please sign in again.", "code": "unauthenticated"}
            if not has_role(current_user, role):
                return {"ok": False, "error": "Only adult advisors can do that.", "code": "forbidden"}
            sessions.touch()  # an action is use of the session; heartbeats are not
            try:
                return {"ok": True, **(handler(self, data if isinstance(data, dict) else {}) or {})}
            except ConversationError as exc:
                db.session.rollback()
                return {"ok": False, "error": str(exc), "code": exc.code,
                        **({"field": exc.field} if exc.field else {})}
            except RedisError:  # the queue is briefly unreachable; nothing was changed that SQL lacks
                db.session.rollback()
                return {"ok": False, "error": "The queue is briefly unavailable. Try again in a moment.",
                        "code": "unavailable"}
            except DATABASE_ERRORS:  # answered at once, not left to the console's timeout: nothing was stored
                _forget_session()
                return {"ok": False, "error": "The database is briefly unavailable. Try again in a moment.",
                        "code": "unavailable"}

        return wrapper

    return decorator


def _forget_session() -> None:
    try:
        db.session.rollback()
    except DATABASE_ERRORS:
        pass  # the connection is gone with the database; the session is removed after the event anyway
