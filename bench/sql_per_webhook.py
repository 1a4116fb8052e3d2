"""SQL statements and commits per inbound webhook, by the state of the conversation it lands in.

    BENCH_TOOL=sql_per_webhook ./bench/run.sh [--db sqlite|postgres] [--show]

The app runs in this process (like the unit tests' live_app) against a private Redis; webhooks are
signed and posted through Flask's test client; every statement the engine executes is counted.
Celery is not eager: dispatch() only enqueues, as in a web process.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sqlalchemy import event

from tests.support.servers import PostgresServer, RedisServer
from tests.support.state import settings
from tests.support.texting import inbound_params, twilio_signature
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, load_config

BASE = "http://127.0.0.1:5999"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--show", action="store_true", help="print each statement's first words")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="textline-sql-"))
    redis_server = RedisServer(workdir).start()
    pg = PostgresServer(workdir).start() if args.db == "postgres" else None
    url = pg.create_database("textline_bench_sql") if pg else f"sqlite:///{workdir / 'sql.sqlite3'}"
    try:
        from flask_migrate import upgrade

        from textline import conversations
        from textline.app import create_app
        from textline.extensions import db
        from textline.models import User

        app = create_app(load_config(settings(workdir, url, redis_server.url, BASE)))
        with app.app_context():
            upgrade()
            engine = db.engine
            volunteer = User(email="v@bench.textline", display_name="V", role="volunteer", password_hash="x")
            db.session.add(volunteer)
            db.session.commit()
            volunteer_id = volunteer.id
        statements, commits = [], []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: statements.append(" ".join(statement.split()[:4])))
        event.listen(engine, "commit", lambda _c: commits.append(1))
        client = app.test_client()

        def send(number: str, label: str) -> None:
            params = inbound_params(FAKE_ACCOUNT_SID, number, "hey, can we talk for a bit? #1")
            sig = twilio_signature(FAKE_AUTH_TOKEN, BASE + "/sms/inbound", params)
            statements.clear()
            commits.clear()
            status = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sig}).status_code
            print(f"{label:48} HTTP {status}: {len(statements):3} statements, {len(commits)} commit(s)")
            if args.show:
                for s in statements:
                    print(f"      {s}")

        send("+15550000001", "new texter (opens a conversation, welcome)")
        send("+15550000001", "texter in a waiting conversation")
        with app.app_context():
            conv_id = conversations.queue.ordered_ids()[0]
            conversations.claim(conv_id, db.session.get(User, volunteer_id))
        send("+15550000001", "texter in a claimed (active) conversation")
    finally:
        redis_server.stop()
        if pg:
            pg.drop_database("textline_bench_sql")
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
