"""CPU time of the app per inbound webhook, in one process, steady enough to compare two commits on a
shared machine (CPU time, unlike throughput, hardly depends on what the neighbours run).

    BENCH_TOOL=cpu_per_webhook ./bench/run.sh [--db sqlite|postgres] [--webhooks 1500] [--rounds 3]

The app runs in this process (as in sql_per_webhook) against a private Redis and a fresh database:
25 texters open conversations, a volunteer claims 20 of them, 5 stay waiting (as in the smoke run's
standing state); then signed webhooks from those texters, picked at random with a fixed seed and
bench bodies, go through Flask's test client. Reported per round: this process's CPU ms per webhook
(the whole app: signature, SQL, risk, Redis, emits; not gunicorn's HTTP parsing, which the bare endpoint
pays too), SQL statements per webhook, and Redis commands per webhook by name (from the server's own
INFO commandstats; PUBLISH = Socket.IO emits). Celery is not eager: outgoing.send() only enqueues (LPUSH).
On a busy machine CPU time still moves by 10-15% (shared cores); the counts do not.
"""
from __future__ import annotations

import argparse
import random
from collections import Counter
import statistics
import time

import redis
from sqlalchemy import event

from bench.inprocess import app_with_database, signed_inbound
from bench.workload import body, texter_number
TEXTERS, CLAIMED = 25, 20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--webhooks", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    with app_with_database(args.db, "cpu", capacity=CLAIMED) as (app, redis_url):
        from textline.texting import conversations
        from textline.extensions import db
        from textline.models import User

        client = app.test_client()
        seq = iter(range(10**9))

        def signed(i: int) -> tuple[dict, dict]:
            return signed_inbound(texter_number(i), body(next(seq)))

        def post(request: tuple[dict, dict]) -> int:
            params, headers = request
            return client.post("/sms/inbound", data=params, headers=headers).status_code

        with app.app_context():
            volunteer_id = db.session.scalar(db.select(User.id))
        for i in range(TEXTERS):
            assert post(signed(i)) == 200
        statements = []
        with app.app_context():
            for conv_id in conversations.queue.ordered_ids()[:CLAIMED]:
                conversations.claim(conv_id, db.session.get(User, volunteer_id))
            event.listen(db.engine, "before_cursor_execute", lambda *_a: statements.append(1))
            # With pool_pre_ping every checkout is also a "SELECT 1" round trip, unseen by the listener above.
            pre_ping = db.engine.pool._pre_ping
            checkouts = []
            event.listen(db.engine, "checkout", lambda *_a: checkouts.append(1))
        stats = redis.Redis.from_url(redis_url)

        def redis_calls() -> Counter:
            return Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.info("commandstats").items()})

        rng = random.Random(5)
        print(f"{args.db}: {args.webhooks} webhooks per round, {TEXTERS} texters ({CLAIMED} claimed, "
              f"{TEXTERS - CLAIMED} waiting)")
        per_round = []
        for r in range(args.rounds):
            requests = [signed(rng.randrange(TEXTERS)) for _ in range(args.webhooks)]  # signed before timing
            statements.clear()
            checkouts.clear()
            calls0 = redis_calls()
            cpu0 = time.process_time()
            failed = sum(1 for request in requests if post(request) != 200)
            cpu_ms = (time.process_time() - cpu0) * 1000 / args.webhooks
            calls = redis_calls() - calls0
            calls["info"] -= 1
            per_round.append(cpu_ms)
            print(f"  round {r + 1}: {cpu_ms:.3f} ms CPU per webhook, {len(statements) / args.webhooks:.2f} SQL "
                  f"statements per webhook{f' + {len(checkouts) / args.webhooks:.2f} pings' if pre_ping else ''}, "
                  f"{failed} failed; Redis commands per webhook: "
                  + ", ".join(f"{k} {v / args.webhooks:.2f}" for k, v in calls.most_common() if v > 0))
        print(f"median {statistics.median(per_round):.3f} ms CPU per webhook (includes the test client)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
