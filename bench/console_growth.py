"""Issue 17, part 3 on the real stack: webhook -> console latency and web CPU per webhook against the number
of connected consoles (and, with --waiting, against the number of conversations waiting).

    BENCH_TOOL=console_growth ./bench/run.sh [--db sqlite] [--consoles 50,200,500] [--rate 50[,200]] [--seconds 10]
                                             [--webs 2] [--waiting 10,100,1000 --waiting-consoles 200]
    .venv/bin/python -m bench.console_growth --plot bench/results/console-growth-*.json   # re-draw

One stack (bench/run.py's TextlineRun: gunicorn gevent, Redis, Celery, SQLite) is set up once with the largest
console count's volunteers signed in, each holding one claimed conversation, and 10 conversations waiting.
Then, on --webs web processes, the first N volunteers' consoles (+ 1 supervisor) connect, spread over the
processes, and each rate runs for --seconds: texts from those N volunteers' texters, round robin
(bench/latency.py). With --waiting, the queue is then filled to each length in turn (new texters who stay
quiet) and --waiting-consoles consoles reconnect (their `hello` carries the whole queue) before the same steps.
Writes bench/results/console-growth-<db>-<UTC time>.{json,txt,png}.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from bench import latency, memory, procstat, report
from bench.consoles import Consoles
from bench.loadgen import LoadGenerator
from bench.run import FULL, RESULTS, SETUP_SERVER, TextlineRun, cold_then_warm, log, meta
from bench.stack import ServerConfig
from bench.workload import Seq
from tests.support.servers import wait_until
from textline.texting.queue import QUEUE

IDLE_SECONDS = 5  # web CPU with the consoles connected and no texts: what holding them costs


def _idle_web_cores(stack, seconds: float = IDLE_SECONDS) -> float:
    cpu = procstat.CpuMeter({"web": stack.web.worker_pids()}).start()
    time.sleep(seconds)
    used = cpu.stop()
    return round(used["cpu_s"]["web"] / used["wall_s"], 3)


def measure_point(run: TextlineRun, n: int, rates: list[float], seconds: float, webs: int, gen) -> dict:
    """Connect the first n volunteers' consoles and the supervisors', then one latency step per rate."""
    stack, volunteers = run.stack, run.mode.volunteers
    cookies = run.cookies[:n] + run.cookies[volunteers:]  # the supervisor(s) come after every volunteer
    consoles = Consoles([(stack.web.url(i % webs), c) for i, c in enumerate(cookies)])
    out = {"consoles": n, "supervisors": len(cookies) - n, "waiting": stack.redis().zcard(QUEUE), "inbound": []}
    try:
        procstat.wait_quiet(stack.web.worker_pids())
        out["memory"] = memory.per_console(stack, consoles)  # connects them
        if out["memory"]["consoles"] != len(cookies):
            raise RuntimeError(f"consoles did not all connect: {out['memory']['connect']}")
        out["idle_web_cores"] = _idle_web_cores(stack)
        for rate in rates:
            procstat.wait_quiet(stack.web.worker_pids())  # the previous step's backlog
            step = latency.inbound_to_console(stack, gen, consoles, n, rate, seconds, run.seq)
            v = step["to_volunteer"]
            log(f"  {n} consoles, {out['waiting']} waiting, {rate:g}/s: {step['achieved_rps']}/s absorbed, "
                f"p50 {v['p50_ms']} p95 {v['p95_ms']} p99 {v['p99_ms']} ms, missing {step['missing_at_volunteer']}, "
                f"web CPU {step['webhook'].get('web_cpu_ms_per_req')} ms/webhook, "
                f"others' cores {step['webhook']['other_cores']}, load {step['webhook']['loadavg']}")
            out["inbound"].append(step)
        consoles.disconnect()
    finally:
        consoles.close()
    return out


def fill_queue(run: TextlineRun, gen, target: int) -> int:
    """New texters open conversations nobody claims until `target` wait; returns the queue's length."""
    r = run.stack.redis()
    missing = target - r.zcard(QUEUE)
    if missing > 0:
        run.leave_waiting(gen, missing)
        wait_until(lambda: r.zcard(QUEUE) >= target, timeout=600, what=f"{target} conversations waiting")
        wait_until(lambda: run.stack.outbound_in_flight() == 0, timeout=600, what="welcome texts sent")
    return r.zcard(QUEUE)


def above_idle(webhook: dict, idle_cores: float | None) -> float | None:
    """Web CPU per webhook less what the web processes burn with the same consoles and no texts (beat's
    sweeps, pings; measured just before): per webhook = idle cores x the step's wall time / webhooks, and
    wall / webhooks = ms per webhook / cores used."""
    per, share = webhook.get("web_cpu_ms_per_req"), webhook.get("web_cpu_share")
    if per is None or not share or idle_cores is None:
        return None
    return round(per - per * idle_cores / share, 3)


def rows(results: dict) -> list[dict]:
    """One row per (axis, point, rate): what the table, the plot and the README show."""
    out = []
    for axis in ("by_consoles", "by_waiting"):
        for point in results.get(axis, []):
            memory = point.get("memory", {})
            connect = memory.get("connect", {})
            for step in point["inbound"]:
                v, w = step["to_volunteer"], step["webhook"]
                out.append({"axis": axis, "consoles": point["consoles"], "waiting": point["waiting"],
                            "offered_rps": step["offered_rps"], "achieved_rps": step["achieved_rps"],
                            "p50_ms": v["p50_ms"], "p95_ms": v["p95_ms"], "p99_ms": v["p99_ms"],
                            "failed": step["webhook_failed"], "missing": step["missing_at_volunteer"],
                            "web_cpu_ms_per_webhook": w.get("web_cpu_ms_per_req"),
                            "web_cpu_ms_above_idle": above_idle(w, point.get("idle_web_cores")),
                            "idle_web_cores": point.get("idle_web_cores"),
                            "web_kb_per_console": memory.get("web_kb_per_console"),
                            "connect_s": connect.get("seconds"),
                            "connect_cpu_ms": connect.get("web_cpu_ms_per_console"),
                            "connect_redis_kb": connect.get("redis_in_kb_per_console"),
                            "other_cores": w.get("other_cores"), "loadavg": w.get("loadavg")})
    return out


def table(results: dict) -> str:
    m = results["meta"]
    lines = [f"Textline console growth ({m['db']}, {m['server']}) {m['started_utc']}, commit {m['git_commit']}; "
             f"{m['host']['cpu']} x{m['host']['cores']}", f"load average at start {m['loadavg_start']}, at end "
             f"{m.get('loadavg_end')} (the load generator, the consoles, the stack and other jobs share these cores)",
             "Webhook POST -> `message` event at the volunteer's console; failed = webhooks not answered 200 "
             "(loadgen timeout); missing = answered 200 but no event within 3 s of the step's last answer; "
             "web CPU = gunicorn workers' CPU per webhook answered"]
    body = [[r["axis"][3:], r["consoles"], r["waiting"], report._f(r["offered_rps"], 0), report._f(r["achieved_rps"]),
             report._f(r["p50_ms"]), report._f(r["p95_ms"]), report._f(r["p99_ms"]), r["failed"], r["missing"],
             report._f(r["web_cpu_ms_per_webhook"], 2), report._f(r["web_cpu_ms_above_idle"], 2),
             report._f(r["idle_web_cores"], 3),
             report._f(r["web_kb_per_console"]), report._f(r["connect_s"]), report._f(r["connect_cpu_ms"], 1),
             report._f(r["connect_redis_kb"]), report._f(r["other_cores"], 2),
             " ".join(report._f(x, 2) for x in r["loadavg"] or [])] for r in rows(results)]
    lines += report._table(["axis", "consoles", "waiting", "msg/s", "absorbed/s", "p50 ms", "p95 ms", "p99 ms",
                            "failed", "missing", "web CPU ms/webhook", "above idle", "idle web cores",
                            "web KB/console", "connect s", "connect web CPU ms/console",
                            "connect Redis KB in/console",
                            "others' cores", "load avg"], body)
    lines += [f"error: {e}" for e in results.get("errors", [])]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = rows(results)
    axes_used = [a for a in ("by_consoles", "by_waiting") if any(r["axis"] == a for r in data)]
    fig, axs = plt.subplots(1, len(axes_used), figsize=(7 * len(axes_used), 6.5), squeeze=False)
    for ax, axis in zip(axs[0], axes_used):
        key = "consoles" if axis == "by_consoles" else "waiting"
        ax2 = ax.twinx()
        for rate in sorted({r["offered_rps"] for r in data if r["axis"] == axis}):
            mine = sorted((r for r in data if r["axis"] == axis and r["offered_rps"] == rate), key=lambda r: r[key])
            xs = [r[key] for r in mine]
            line, = ax.plot(xs, [r["p99_ms"] for r in mine], marker="o", label=f"{rate:g}/s offered: p99")
            ax.plot(xs, [r["p50_ms"] for r in mine], marker=".", linestyle=":", color=line.get_color(),
                    label=f"{rate:g}/s: p50")
            ax2.plot(xs, [r["web_cpu_ms_per_webhook"] for r in mine], marker="s", linestyle="--", alpha=0.6,
                     color=line.get_color(), label=f"{rate:g}/s: web CPU ms/webhook")
        ax.axhline(50, color="red", linewidth=0.8, linestyle="--", label="issue 17: p99 < 50 ms")
        what = "connected volunteer consoles" if key == "consoles" else "conversations waiting"
        ax.set(xscale="log", yscale="log", xlabel=what,
               ylabel="webhook -> volunteer console ms (p99 solid, p50 dotted)")
        ax.set_xticks(sorted({r[key] for r in data if r["axis"] == axis}))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax2.set(ylabel="web CPU ms per webhook (dashed)", ylim=(0, None))
        fixed = "waiting" if key == "consoles" else "consoles"
        ax.set_title(f"against {key} ({fixed}: {sorted({r[fixed] for r in data if r['axis'] == axis})})", fontsize=9)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    m = results["meta"]
    fig.suptitle(f"Textline {m['db']} {m['server']}, {m['started_utc']}, load avg {m['loadavg_start']} -> "
                 f"{m.get('loadavg_end')} (2 shared cores)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.{ext}" for ext in ("json", "txt", "png")]
    paths[0].write_text(json.dumps(results, indent=1, default=str))
    paths[1].write_text(table(results) + "\n")
    if not rows(results):  # nothing measured (set-up failed): the JSON and table carry the error
        return paths[:2]
    plot(results, paths[2])
    return paths


def _ints(text: str | None) -> list[int]:
    return [int(x) for x in text.split(",") if x] if text else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", choices=["sqlite"])  # PostgreSQL: not wired here yet
    ap.add_argument("--consoles", default="50,200,500", help="volunteer consoles connected, in turn")
    ap.add_argument("--rate", default="50", help="comma-separated msg/s, each for --seconds at every point")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--webs", type=int, default=2, help="gunicorn gevent web processes")
    ap.add_argument("--waiting", help="also: conversations waiting, e.g. 10,100,1000, with --waiting-consoles")
    ap.add_argument("--waiting-consoles", type=int, default=200)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--plot", type=Path, help="re-draw the table and plot of a saved JSON")
    args = ap.parse_args(argv)
    if args.plot:
        results = json.loads(args.plot.read_text())
        print(table(results))
        print("\n".join(str(p) for p in write(results, args.plot.parent, args.plot.stem)))
        return 0
    counts, waiting = _ints(args.consoles), _ints(args.waiting)
    rates = [float(r) for r in args.rate.split(",") if r]
    volunteers = max(counts + ([args.waiting_consoles] if waiting else []))
    mode = replace(FULL, name="console-growth", volunteers=volunteers, supervisors=1, waiting=10)
    config = ServerConfig("gevent", args.webs)
    results = {"meta": {**meta(mode, None), "db": args.db, "server": config.name,
                        "argv": sys.argv[1:] if argv is None else argv},
               "by_consoles": [], "by_waiting": [], "errors": []}
    log(f"console growth; load average {results['meta']['loadavg_start']}")
    workdir = Path(tempfile.mkdtemp(prefix="textline-congrowth-"))
    run = TextlineRun(args.db, mode, workdir, None, Seq())
    try:
        run.start(SETUP_SERVER)  # volunteers signed in, conversations claimed, 10 waiting
        run.stack.web.start(config)
        gen = LoadGenerator(run.stack.web.targets())
        try:
            results["cold_first_webhook_ms"] = cold_then_warm(gen, run.stack, run.seq, run.texters)
            for n in counts:
                results["by_consoles"].append(measure_point(run, n, rates, args.seconds, args.webs, gen))
            for target in waiting:
                log(f"filling the queue to {target}")
                fill_queue(run, gen, target)
                results["by_waiting"].append(measure_point(run, args.waiting_consoles, rates, args.seconds,
                                                           args.webs, gen))
        finally:
            gen.close()
    except Exception as exc:  # keep what was measured
        results["errors"].append(repr(exc))
        log(f"FAILED: {exc!r}\n{traceback.format_exc()}\n{run.stack.logs()[-4000:]}")
    finally:
        run.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # first: writing the outputs must not leave it behind
        results["meta"]["loadavg_end"] = procstat.loadavg()
        stem = f"console-growth-{args.db}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}"
        paths = write(results, args.out, stem)
        print()
        print(table(results))
        print("\n".join(str(p) for p in paths))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
