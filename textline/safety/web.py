"""Safety in the app: the supervisor dashboard's page, /api/resources, and the hours setting checked
at start (a bad HOURS stops the app). The dashboard's socket events are in safety/sockets.py."""
from __future__ import annotations

from flask import Flask

from textline.safety import opening_hours, views


def init_app(app: Flask) -> None:
    opening_hours.check(app.config["HOURS"])
    app.register_blueprint(views.bp)
