"""Issue 17: the first webhook after a web process starts (target < 100 ms).

    BENCH_TOOL=first_webhook ./bench/run.sh [--db sqlite|postgres] [--starts 5] [--json FILE]

One Textline stack (Redis, database, Celery worker, beat) on gunicorn gevent x1, as in production. Each
start: the web process is started afresh and waited for until /healthz answers (gunicorn's own readiness,
as a load balancer would), then one signed webhook from a new texter (it opens a conversation: the most
work a text does) is timed from send to 200, and the web worker's CPU for it is read from /proc. A second
webhook from another new texter right after is timed the same way, so the first's extra cost is plain.
The floor's first webhook is timed the same way, side by side, on the same database.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench import procstat
from bench.loadgen import LoadGenerator
from bench.stack import BenchStack, FloorServer, ServerConfig
from bench.workload import Seq, inbound_specs
from tests.support.servers import PostgresServer

RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = ServerConfig("gevent", 1)


def one_webhook(gen: LoadGenerator, stack: BenchStack, pids: list[int], texter: int, seq: Seq) -> dict:
    before = sum(procstat.cpu_seconds(p) for p in pids)
    step = gen.run(inbound_specs(stack.account_sid, [texter], seq.take(1), 1), 1, stack.signer())
    cpu = sum(procstat.cpu_seconds(p) for p in pids) - before
    return {"ms": round((step.done[0] - step.intended[0]) * 1000, 1), "cpu_ms": round(cpu * 1000, 1)}


def measure(web, stack: BenchStack, starts: int, seq: Seq, first_texter: int) -> list[dict]:
    out, texter = [], first_texter
    for _ in range(starts):
        web.start(CONFIG)
        gen = LoadGenerator(web.targets())
        try:
            pids = web.worker_pids()
            first = one_webhook(gen, stack, pids, texter, seq)
            second = one_webhook(gen, stack, pids, texter + 1, seq)
        finally:
            gen.close()
        texter += 2
        out.append({"first": first, "second": second})
    web.stop()
    return out


def summary(runs: list[dict]) -> dict:
    return {which: {k: statistics.median(r[which][k] for r in runs) for k in ("ms", "cpu_ms")}
            for which in ("first", "second")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    seq = Seq()
    with tempfile.TemporaryDirectory() as tmp:
        pg = PostgresServer(Path(tmp)).start() if args.db == "postgres" else None
        stack = BenchStack(Path(tmp) / args.db, args.db, pg)
        try:
            stack.start()
            textline = measure(stack.web, stack, args.starts, seq, first_texter=0)
            floor = FloorServer(stack)
            try:
                floor_runs = measure(floor.web, stack, args.starts, seq, first_texter=1000)
            finally:
                floor.stop()
        finally:
            stack.stop()
            if pg is not None:
                pg.stop()
    result = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "db": args.db,
              "server": CONFIG.name, "loadavg": procstat.loadavg(), "starts": args.starts,
              "textline": {"runs": textline, "median": summary(textline)},
              "floor": {"runs": floor_runs, "median": summary(floor_runs)}}
    for app in ("textline", "floor"):
        m = result[app]["median"]
        print(f"{app:8} first webhook after start: {m['first']['ms']} ms ({m['first']['cpu_ms']} ms CPU); "
              f"second: {m['second']['ms']} ms ({m['second']['cpu_ms']} ms CPU)   [median of {args.starts} starts]")
    print(f"ratio first ÷ second, Textline: {result['textline']['median']['first']['ms'] / max(0.1, result['textline']['median']['second']['ms']):.2f}")
    path = args.json or RESULTS / f"first-webhook-{args.db}-{datetime.now().strftime('%Y%m%d-%H%M')}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
