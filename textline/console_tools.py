"""Wires the console tools (issue 6) into the app: saved replies (pages, the picker's list) and
transferring a conversation to another volunteer (socket events)."""
from __future__ import annotations


def init_app(app, socketio) -> None:
    from textline import canned_views, transfer_events

    app.register_blueprint(canned_views.bp)
    transfer_events.register(socketio)
