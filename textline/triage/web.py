"""Triage in the app: the adults' page and the admins' lexicon edits. The label event is in triage/sockets.py."""
from __future__ import annotations

from flask import Flask

from textline.triage import lexicon_views, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(lexicon_views.bp)
