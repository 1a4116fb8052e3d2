"""Duty of care in the app: the per-conversation duty page and its forms. The work list's socket event is in
duty/sockets.py; the reminder runs in the escalation sweep's task (workers/escalation.py)."""
from __future__ import annotations

from flask import Flask

from textline.duty import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
