"""Triage in the app: the adults' page. The label event is in triage/sockets.py."""
from __future__ import annotations

from flask import Flask

from textline.triage import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
