"""Room names and the one emit() used by web processes and Celery workers alike.

Flask-SocketIO is configured with Redis as its message queue, so an emit from any process
(a webhook on web process B, a Celery worker) reaches consoles connected to any web process.
"""
from __future__ import annotations

from flask import current_app

VOLUNTEERS = "volunteers"    # on-shift volunteers: queue changes
SUPERVISORS = "supervisors"  # adults: everything


def client_manager(url: str):
    """The Redis message queue that joins web processes and workers, with a connect timeout: an
    unreachable Redis must not hang the webhook that emits (the emit is dropped and logged instead)."""
    import socketio

    if not url or not url.startswith(("redis://", "rediss://")):
        return None
    return socketio.RedisManager(url, channel="flask-socketio", write_only=False,
                                 redis_options={"socket_connect_timeout": 2})


def conversation_room(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def emit(event: str, data, to: str | list[str], namespace: str = "/") -> None:
    from textline.extensions import socketio

    try:
        socketio.emit(event, data, to=to, namespace=namespace)
    except Exception:  # a console update must never fail a webhook or a send
        current_app.logger.exception("realtime emit failed: %s", event)


def disconnect_user(user_id: int) -> None:
    """Close every console socket of a user, on whichever web process holds it (deactivation,
    sign-out everywhere)."""
    from textline import presence
    from textline.extensions import socketio

    presence.for_each_socket(user_id, lambda sid: socketio.server.disconnect(sid, namespace="/"))
