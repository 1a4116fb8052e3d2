"""Where a webhook's time goes: py-spy samples the gunicorn worker while signed webhooks arrive at a
steady rate (below saturation), then the samples are grouped by the step of the hot path they are in.

    BENCH_TOOL=profile_hotpath ./bench/run.sh [--db sqlite] [--rate 120] [--seconds 20] [--consoles]

Writes bench/results/profile-<db>-<time>.collapsed.gz (py-spy's raw collapsed stacks, for a flame
graph tool) and a .txt summary. py-spy runs --nonblocking (it does not pause the process it samples).
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from bench import procstat
from bench.consoles import Consoles
from bench.loadgen import LoadGenerator
from bench.run import RESULTS, SETUP_SERVER, SMOKE, TextlineRun, cold_then_warm, log
from bench.stack import ServerConfig
from bench.workload import Seq, inbound_specs
from tests.support.servers import VENV_BIN, PostgresServer

# Steps of the hot path, most specific first: a sample belongs to the innermost one on its stack.
DOMAIN = [
    ("risk scoring (risk.score_text)", "score_text", "textline/safety/risk/scorer.py"),
    ("signature check (twilio_gateway)", "request_is_from_twilio", "textline/texting/twilio_gateway.py"),
    ("queue snapshot SQL + payloads (publish_queue)", "queue_snapshot", "textline/texting/queue_sync.py"),
    ("Socket.IO emit (broadcast)", "_emit", "textline/broadcast.py"),
    ("Celery dispatch", "send_texts", "textline/tasks.py"),
    ("queue ZADD (conversation_queue)", "enqueue", "textline/texting/queue.py"),
    ("store message: SQL (receive_inbound)", "receive_inbound", "textline/texting/inbound.py"),
    ("console payloads (payloads.py)", "", "textline/payloads.py"),
    ("announce_inbound, other", "announce_inbound", "textline/texting/inbound.py"),
    ("webhook view, other (form parsing, number check)", "inbound", "textline/texting/webhooks.py"),
]
INFRA = [
    ("SQLAlchemy session teardown / other SQL", ("sqlalchemy/", "sqlite3", "psycopg")),
    ("Socket.IO server (websockets, Redis pub/sub listener)", ("socketio/", "engineio/", "simple_websocket",
                                                              "flask_socketio/", "kombu/")),
    ("Flask / Werkzeug request handling", ("flask/", "werkzeug/", "flask_login/", "flask_wtf/")),
    ("gunicorn / gevent server loop", ("gunicorn/", "gevent/")),
]


def _frames(stack: str) -> list[tuple[str, str]]:
    """py-spy raw frames 'function (path:line)', root first -> [(function, path)]."""
    out = []
    for frame in stack.split(";"):
        name, _, where = frame.partition(" (")
        out.append((name.strip(), where.rsplit(":", 1)[0]))
    return out


def bucket(frames: list[tuple[str, str]]) -> str:
    for name, path in reversed(frames):
        for label, fn, file in DOMAIN:
            if path.endswith(file) and (not fn or name == fn):
                return label
    for name, path in reversed(frames):
        for label, markers in INFRA:
            if any(m in path for m in markers):
                return label
    return "other"


def summarise(collapsed: str, requests: int, seconds: float, rate_hz: int) -> str:
    buckets, leaves, inclusive = Counter(), Counter(), Counter()
    sql_within = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        total += n
        label = bucket(frames)
        buckets[label] += n
        if any(("sqlalchemy/" in p or "sqlite3" in p or "psycopg" in p) for _, p in frames):
            sql_within[label] += n
        leaf_name, leaf_path = frames[-1]
        leaves[f"{leaf_name} ({_short(leaf_path)})"] += n
        for name, path in {(f, p) for f, p in frames if "textline/" in p}:
            inclusive[f"{name} ({_short(path)})"] += n
    if not total:
        return "no samples"
    ms_per_sample = 1000 / rate_hz
    per_req = (lambda n: n * ms_per_sample / requests) if requests else (lambda n: 0.0)
    lines = [f"{total} samples at {rate_hz} Hz over {seconds:.0f} s ({total * ms_per_sample / 1000 / seconds:.0%} of a core "
             f"busy in Python), {requests} webhooks answered meanwhile -> {per_req(total):.2f} ms of samples per webhook",
             "", f"{'step of the hot path':58} {'share':>6} {'ms/webhook':>10} {'of it in SQL':>12}"]
    for label, n in buckets.most_common():
        lines.append(f"{label:58} {n / total:6.1%} {per_req(n):10.3f} {sql_within[label] / n:12.0%}")
    lines += ["", "textline functions, inclusive (on the stack):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(25)]
    lines += ["", "leaf functions (where the CPU actually was):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in leaves.most_common(25)]
    return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("site-packages/", "wt-bench/", "lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--server", default="gevent")
    ap.add_argument("--rate", type=float, default=120, help="webhooks/s, below saturation")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--sample-hz", type=int, default=250)
    ap.add_argument("--consoles", action="store_true", help="keep the volunteer consoles connected while sampling")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="textline-profile-"))
    pg = PostgresServer(workdir).start() if args.db == "postgres" else None
    run = TextlineRun(args.db, SMOKE, workdir, pg, Seq())
    config = ServerConfig(args.server, 1)
    stem = f"profile-{args.db}{'-consoles' if args.consoles else ''}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}"
    args.out.mkdir(parents=True, exist_ok=True)
    raw_path = args.out / f"{stem}.collapsed"
    try:
        run.start(SETUP_SERVER)
        stack = run.stack
        if config != SETUP_SERVER:
            stack.web.start(config)
        gen = LoadGenerator(stack.web.targets())
        consoles = None
        if args.consoles:
            consoles = Consoles([(stack.base_url, c) for c in run.cookies])
            consoles.connect()
        cold_then_warm(gen, stack, run.seq, run.texters)
        n = int(args.rate * args.seconds)
        texters = list(range(SMOKE.volunteers)) if args.consoles else run.texters
        specs = inbound_specs(stack.account_sid, texters, run.seq.take(n), n,
                              pick="round_robin" if args.consoles else "random")
        outcome = {}
        driver = threading.Thread(target=lambda: outcome.update(step=gen.run(specs, args.rate, stack.signer())))
        worker = stack.web.worker_pids()[0]
        driver.start()
        time.sleep(1)
        sample_s = max(3, args.seconds - 3)
        load0 = procstat.loadavg()
        cpu0 = procstat.cpu_seconds(worker)
        log(f"py-spy sampling web worker {worker} for {sample_s:.0f} s at {args.rate:.0f} webhooks/s")
        t0 = time.monotonic()
        subprocess.run([str(VENV_BIN / "py-spy"), "record", "--pid", str(worker), "--duration", str(int(sample_s)),
                        "--rate", str(args.sample_hz), "--format", "raw", "--nonblocking", "--output", str(raw_path)],
                       check=True, capture_output=True)
        wall = time.monotonic() - t0
        cpu = procstat.cpu_seconds(worker) - cpu0
        driver.join()
        step = outcome["step"]
        answered = sum(1 for i in range(len(step)) if step.status[i] == 200 and t0 <= step.done[i] <= t0 + wall)
        if not answered:
            log(f"no webhook answered while sampling: statuses {Counter(step.status)}, errors {step.errors[:3]}, "
                f"done {min(step.done, default=0) - t0:.1f}..{max(step.done, default=0) - t0:.1f} s after t0")
        summary = summarise(raw_path.read_text(), answered, wall, args.sample_hz)
        header = (f"Textline hot-path profile {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}: {args.db}, "
                  f"{config.name}, {args.rate:.0f} signed webhooks/s, consoles connected: {args.consoles}\n"
                  f"web worker CPU {cpu / wall:.0%} of a core = {cpu / max(1, answered) * 1000:.2f} ms per webhook; "
                  f"load average {load0}\n")
        (args.out / f"{stem}.txt").write_text(header + "\n" + summary + "\n")
        subprocess.run(["gzip", "-f", str(raw_path)], check=True)  # ~30x smaller, for flame graph tools
        print(header)
        print(summary)
        print(f"\n{args.out / (stem + '.txt')}\n{raw_path}.gz")
        if consoles:
            consoles.close()
        gen.close()
    finally:
        run.stop()
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
