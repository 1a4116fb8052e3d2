"""The application factory: one Flask app for web processes and Celery workers alike."""
from __future__ import annotations

import os

from flask import Flask, redirect, url_for

from textline.config import ROOT, engine_options, load_config
from textline.extensions import csrf, db, login_manager, migrate, socketio


def _async_mode() -> str:
    """gevent when gunicorn's gevent worker has patched the process; plain threads otherwise."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    except ImportError:
        pass
    return "threading"


def create_app(overrides: dict | None = None, role: str = "web") -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static")
    app.config.update(load_config())
    app.config.update(overrides or {})
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (overrides or {}):  # the overrides may name another database
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                                 app.config["DB_CONNECT_TIMEOUT"])
    app.config["PROCESS_ROLE"] = role
    os.makedirs(app.config["INSTANCE_DIR"], exist_ok=True)
    from textline import logs, realtime

    logs.init_app(app)  # JSON lines with a request id, redacted (textline/logs.py)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    manager = realtime.client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"])
    socketio.init_app(app, message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], async_mode=_async_mode(),
                      manage_session=False, **({"client_manager": manager} if manager else {}))

    from workers.celery_app import celery_init_app

    celery_init_app(app)

    from textline import (
        admin, auth, cli, console, health, insights_page, metrics, simulator, socket_events, webhooks,
    )
    from textline.security import init_security

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(insights_page.bp)
    if app.config["FAKE_TWILIO_ENABLED"]:
        from textline import fake_twilio

        app.register_blueprint(fake_twilio.bp)
    if app.config["SIMULATOR_ENABLED"]:
        app.register_blueprint(simulator.bp)
    socket_events.register(socketio, app)
    from textline import safety

    safety.init_app(app, socketio)
    from textline import console_tools

    console_tools.init_app(app, socketio)
    init_security(app)
    cli.register(app)

    @app.get("/")
    def index():
        return redirect(url_for("console.console"))

    return app
