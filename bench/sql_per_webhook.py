"""SQL statements and commits per inbound webhook, by the state of the conversation it lands in.

    BENCH_TOOL=sql_per_webhook ./bench/run.sh [--db sqlite|postgres] [--show]

The app runs in this process (like the unit tests' live_app) against a private Redis; webhooks are
signed and posted through Flask's test client; every statement the engine executes is counted.
Celery is not eager: outgoing.send() only enqueues, as in a web process.
"""
from __future__ import annotations

import argparse

from sqlalchemy import event

from bench.inprocess import app_with_database, signed_inbound


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--show", action="store_true", help="print each statement's first words")
    args = ap.parse_args(argv)
    with app_with_database(args.db, "sql") as (app, _):
        from textline.texting import conversations
        from textline.extensions import db
        from textline.models import User

        with app.app_context():
            engine = db.engine
            volunteer_id = db.session.scalar(db.select(User.id))
        statements, commits = [], []
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_a: statements.append(" ".join(statement.split()[:4])))
        event.listen(engine, "commit", lambda _c: commits.append(1))
        client = app.test_client()

        def send(number: str, label: str) -> None:
            params, headers = signed_inbound(number, "hey, can we talk for a bit? #1")
            statements.clear()
            commits.clear()
            status = client.post("/sms/inbound", data=params, headers=headers).status_code
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
