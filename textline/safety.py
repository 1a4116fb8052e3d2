"""Wires the safety features (issue 3) into the app: routes, socket events, the hours check."""
from __future__ import annotations


def init_app(app, socketio) -> None:
    from textline import opening_hours, safety_events, safety_views

    opening_hours.check(app.config["HOURS"])
    app.register_blueprint(safety_views.bp)
    safety_events.register(socketio)
