"""Operations benchmark on the production processes (gunicorn+gevent web, Celery worker, real Redis and
SQL): how long a Twilio webhook takes to answer when everything is up, when Redis is down, and when
the database does not answer; and what /readyz and /metrics cost. Loops are bounded; all traffic
stays on 127.0.0.1.

    python bench/bench_ops.py [--n 200] [--postgres]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import requests  # noqa: E402

from tests.integration.conftest import Stack  # noqa: E402
from tests.support.servers import PostgresServer, RedisServer, app_env, free_port, wait_until, web_process  # noqa: E402
from tests.support.state import settings  # noqa: E402
from tests.support.texting import inbound_params, twilio_signature  # noqa: E402

TOKEN = "bench-metrics-token-0123456789"


def summary(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{name:48} n={len(ms):4}  p50={statistics.median(ms):8.1f} ms  p95={p95:8.1f} ms  "
            f"max={ms[-1]:8.1f} ms")


def webhook(stack_or_base, account_sid, auth_token, public_base, number, body, web_url=None):
    params = inbound_params(account_sid, number, body)
    sig = twilio_signature(auth_token, public_base + "/sms/inbound", params)
    t = time.perf_counter()
    r = requests.post((web_url or public_base) + "/sms/inbound", data=params, timeout=20,
                      headers={"X-Twilio-Signature": sig})
    return (time.perf_counter() - t) * 1000, r.status_code


def timed_get(url, headers=None):
    t = time.perf_counter()
    r = requests.get(url, headers=headers or {}, timeout=20)
    return (time.perf_counter() - t) * 1000, r.status_code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="two web processes on PostgreSQL")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    redis_server = RedisServer(tmp).start()
    pg = db_name = None
    if args.postgres:
        pg = PostgresServer(tmp).start()
        db_name = f"textline_bench_{os.getpid()}"
        database_url = pg.create_database(db_name)
    else:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    webs = 2 if args.postgres else 1
    stack = Stack(tmp, redis_server.url, database_url, webs=webs, workers=1, METRICS_TOKEN=TOKEN).start()
    print(f"database: {stack.engine.dialect.name}, web processes: {webs}, cores: {os.cpu_count()}")
    try:
        sid, tok, base = stack.account_sid, stack.auth_token, stack.base_url
        runs = [webhook(stack, sid, tok, base, f"+1555{2000000 + i:07d}", "hi, is anyone there?",
                        stack.url(i % webs)) for i in range(args.n)]
        assert all(code == 200 for _, code in runs)
        print(summary("webhook, new texter (all up)", [ms for ms, _ in runs]))
        runs = [webhook(stack, sid, tok, base, f"+1555{2000000 + i:07d}", "still here", stack.url(i % webs))
                for i in range(args.n)]
        print(summary("webhook, follow-up text (all up)", [ms for ms, _ in runs]))
        print(summary("/readyz (Redis, SQL, Celery ping)", [timed_get(base + "/readyz")[0] for _ in range(50)]))
        print(summary(f"/metrics ({args.n} conversations waiting)",
                      [timed_get(base + "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] for _ in range(50)]))

        redis_server.stop()
        n_down = max(10, args.n // 4)
        runs = [webhook(stack, sid, tok, base, f"+1555{3000000 + i:07d}", "hello?", stack.url(i % webs))
                for i in range(n_down)]
        assert all(code == 200 for _, code in runs), {c for _, c in runs}
        print(summary("webhook, new texter, Redis DOWN (stored, 200)", [ms for ms, _ in runs]))
        redis_server.start()
        t = time.perf_counter()
        wait_until(lambda: stack.redis().zcard("tl:queue") == args.n + n_down, timeout=120, interval=0.1,
                   what="queue repaired")
        print(f"{'queue repaired after Redis returned':48} {(time.perf_counter() - t) * 1000:8.0f} ms "
              f"({args.n + n_down} waiting; REDIS_WATCH_SECONDS=5)")
    finally:
        stack.stop()
        redis_server.stop()
        if pg:
            pg.drop_database(db_name)
            pg.stop()

    # A database that accepts connections and never answers.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    port = free_port()
    redis_server.start()
    base = f"http://127.0.0.1:{port}"
    env = app_env(**settings(tmp, f"postgresql://x@127.0.0.1:{silent.getsockname()[1]}/x", redis_server.url, base,
                             DB_CONNECT_TIMEOUT=2, LOG_LEVEL="WARNING"))
    web = web_process("web-silent", port, env, tmp).start()
    try:
        wait_until(lambda: requests.get(base + "/healthz", timeout=2).ok, timeout=30, what="web")
        runs = [webhook(None, stack.account_sid, stack.auth_token, base, "+15550001234", "x") for _ in range(5)]
        assert all(code == 503 for _, code in runs), runs
        print(summary("webhook, database silent (503, DB_CONNECT_TIMEOUT=2)", [ms for ms, _ in runs]))
    finally:
        web.stop()
        silent.close()
        redis_server.stop()


if __name__ == "__main__":
    main()
