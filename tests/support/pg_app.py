"""A bare Flask app on a fresh PostgreSQL database migrated to head, for unit tests that check what
PostgreSQL enforces (constraints, migrations). Bare, because create_app would rebind the process-wide
Socket.IO and Celery objects the live app uses."""
from __future__ import annotations

import contextlib
import os

from flask import Flask
from flask_migrate import upgrade

from tests.support.servers import PostgresServer
from tests.support.state import settings
from textline.config import ROOT, load_config
from textline.extensions import db, migrate


@contextlib.contextmanager
def postgres_app(workdir):
    server = PostgresServer(workdir).start()
    name = f"textline_unit_{os.getpid()}"  # unique per process: two checkouts may test at once
    app = Flask("textline_pg")
    app.config["SQLALCHEMY_DATABASE_URI"] = server.create_database(name)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    try:
        with app.app_context():
            upgrade()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        server.drop_database(name)
        server.stop()


@contextlib.contextmanager
def configured_postgres_app(workdir, redis_url: str, base_url: str = "http://127.0.0.1:9"):
    """postgres_app with Textline's settings loaded (what receive_inbound, the drain, the sweeps read),
    on that database; base_url is where its fake Twilio answers (unreachable by default)."""
    with postgres_app(workdir) as app:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        app.config.update(load_config(settings(workdir, url, redis_url, base_url)))
        app.config["SQLALCHEMY_DATABASE_URI"] = url
        yield app
