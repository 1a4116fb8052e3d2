"""Shared fixtures. Every test talks to a real Redis (a private redis-server started here) and real SQL.

`live_app` is the app served on a real port in this process (threading mode), with the fake Twilio
mounted, so outbound sends cross real HTTP. Celery runs eagerly here: unit level. Tests under
tests/integration/ start the production processes instead (gunicorn + gevent, Celery worker, beat).
"""
from __future__ import annotations

import logging
import threading

import pytest
from werkzeug.serving import make_server

from tests.support.servers import RedisServer, free_port
from tests.support.state import reset_database, reset_redis, settings
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, load_config
from workers import celery_app


def migrate_database(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def reset_state(app) -> None:
    """Empty every table and Textline's Redis keys, so each test starts from nothing."""
    from textline.extensions import db
    from textline.riskmodels import live
    from textline.safety.risk.scorer import use_model

    with app.app_context():
        db.session.remove()
        reset_database(db.engine)
    reset_redis(app.config["REDIS_URL"])
    live.forget()  # the process's risk models follow the emptied tables now, not within CHECK_EVERY
    use_model(None)  # and score_text() itself is back on the packaged model


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


class LiveApp:
    def __init__(self, app, base_url: str):
        self.app, self.base_url = app, base_url
        self.account_sid = FAKE_ACCOUNT_SID
        self.auth_token = FAKE_AUTH_TOKEN


@pytest.fixture(scope="session")
def live_app_server(redis_server, tmp_path_factory):
    from textline.app import create_app

    instance = tmp_path_factory.mktemp("instance")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One proxy in front, as in docker-compose.yml: tests name a client with X-Forwarded-For.
    env = settings(instance, f"sqlite:///{instance / 'test.sqlite3'}", redis_server.url, base,
                   CELERY_ALWAYS_EAGER="1", TEXTLINE_TRUSTED_PROXIES="1")
    app = create_app(load_config(env))
    celery_app.init_app(app)  # tasks run eagerly, in this process: it has them, as a worker does
    migrate_database(app)
    from textline.safety.risk import score_text

    score_text("")  # load the lexicon and model now, as textline/wsgi.py does at start-up
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(app, base)
    server.shutdown()
    # Its Socket.IO listener thread lives until the interpreter exits and would log Redis's shutdown
    # after pytest's summary; nothing is listening any more, so silence it.
    logging.getLogger("socketio.server").setLevel(logging.CRITICAL)


@pytest.fixture
def live_app(live_app_server):
    reset_state(live_app_server.app)
    # Eager Celery (unit level) marks "inside a task" in one process-global flag and restores the value
    # it saw on entry; two request threads running eager tasks at once can leave it set, and every later
    # `.delay().get()` then fails with "Never call result.get() within a task!". Start each test clear.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield live_app_server


@pytest.fixture
def app(live_app):
    return live_app.app


@pytest.fixture
def cfg(app):
    """The live app's config, for a test to change; restored after it."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


# The production-shape stack (gunicorn + gevent web, real Celery worker), shared by tests/integration/
# and tests/browser/: defined once, registered here so one stack serves both in a session.
from tests.support.stack import live, stack  # noqa: E402,F401


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (the `live` fixture prints logs after a failure)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
