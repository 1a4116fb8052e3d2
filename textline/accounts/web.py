"""Accounts in the app: signing in and out, setting a password, the admin pages."""
from __future__ import annotations

from flask import Flask

from textline.accounts import admin, auth, sessions, throttle


def init_app(app: Flask) -> None:
    throttle.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.before_request(sessions.request_started)
