"""The console in the app: its page, the saved replies' pages, and the consoles' Socket.IO namespace."""
from __future__ import annotations

from flask import Flask

from textline.console import canned_views, sockets, views
from textline.extensions import socketio


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(canned_views.bp)
    socketio.on_namespace(sockets.ConsoleNamespace("/"))
