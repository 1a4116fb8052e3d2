"""The app in the benchmark's own process (as the unit tests' live_app): a private Redis, a fresh migrated
database, signed webhooks through Flask's test client. Used by the counting tools (sql_per_webhook,
cpu_per_webhook); Celery is not eager, so outgoing.send() only enqueues, as in a web process."""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import PostgresServer, RedisServer
from tests.support.state import settings
from tests.support.texting import inbound_params, twilio_signature
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, load_config

BASE = "http://127.0.0.1:5999"


@contextmanager
def app_with_database(db_kind: str, name: str, capacity: int = 2):
    """Yields (app, redis_url) with the schema upgraded and one volunteer on shift, 'v@bench.textline'."""
    workdir = Path(tempfile.mkdtemp(prefix=f"textline-{name}-"))
    redis_server = RedisServer(workdir).start()
    pg = PostgresServer(workdir).start() if db_kind == "postgres" else None
    db_name = f"textline_bench_{name}"
    url = pg.create_database(db_name) if pg else f"sqlite:///{workdir / (name + '.sqlite3')}"
    try:
        from flask_migrate import upgrade

        from textline.app import create_app
        from textline.extensions import db
        from textline.models import User

        app = create_app(load_config(settings(workdir, url, redis_server.url, BASE)))
        with app.app_context():
            upgrade()
            db.session.add(User(email="v@bench.textline", display_name="V", role="volunteer", password_hash="x",
                                on_shift=True, capacity=capacity))
            db.session.commit()
        yield app, redis_server.url
    finally:
        redis_server.stop()
        if pg:
            pg.drop_database(db_name)
            pg.stop()


def signed_inbound(number: str, body: str) -> tuple[dict, dict]:
    """(form, headers) of a correctly signed inbound webhook."""
    params = inbound_params(FAKE_ACCOUNT_SID, number, body)
    return params, {"X-Twilio-Signature": twilio_signature(FAKE_AUTH_TOKEN, BASE + "/sms/inbound", params)}
