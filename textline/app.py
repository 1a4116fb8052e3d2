"""The application factory: one Flask app for web processes and Celery workers alike."""
from __future__ import annotations

import os

from flask import Flask, redirect, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from textline import broadcast, tasks
from textline.accounts import web as accounts
from textline.blocklist import web as blocklist
from textline.config import ROOT, SQLITE_BUSY_TIMEOUT_OFF_THE_EVENT_LOOP, engine_options, load_config
from textline.console import web as console
from textline.duty import web as duty
from textline.extensions import csrf, db, login_manager, migrate, socketio
from textline.insights import web as insights
from textline.media import web as media
from textline.ops import logs
from textline.ops import web as ops
from textline.riskmodels import web as risk_models
from textline.safety import web as safety
from textline.texting import web as texting
from textline.triage import web as triage

# The features: each package's web.py adds its pages, socket events and commands to the app.
FEATURES = (ops, accounts, texting, safety, console, duty, insights, media, blocklist, triage, risk_models)


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
        busy = app.config["SQLITE_BUSY_TIMEOUT"] if role == "web" else SQLITE_BUSY_TIMEOUT_OFF_THE_EVENT_LOOP
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                                 app.config["DB_CONNECT_TIMEOUT"], busy)
    app.config["PROCESS_ROLE"] = role
    if app.config["TRUSTED_PROXIES"]:  # the client's address as the proxies saw it, for limits and logs
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    os.makedirs(app.config["INSTANCE_DIR"], exist_ok=True)
    logs.init_app(app)  # JSON lines with a request id, redacted (textline/ops/logs.py)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    manager = broadcast.client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"])
    socketio.init_app(app, message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], async_mode=_async_mode(),
                      manage_session=False, **({"client_manager": manager} if manager else {}))
    tasks.init_app(app)

    for feature in FEATURES:
        feature.init_app(app)

    @app.get("/")
    def index():
        return redirect(url_for("console.console"))

    return app
