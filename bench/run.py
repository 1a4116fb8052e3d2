"""Run the whole benchmark: ./bench/run.sh [--smoke] (see bench/README.md).

Order: per database, one Textline stack is set up once (volunteers signed in, conversations open and
claimed), then its web processes are restarted for each server configuration; the bare endpoint
gets the same configurations. The load generator and the consoles are separate processes.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from bench import escalation, latency, memory, procstat, report
from bench.consoles import Consoles
from bench.loadgen import LoadGenerator
from bench.stack import TIMERS, BareServer, BenchStack, FloorServer, ServerConfig
from bench.throughput import SMOKE_RAMP, RampPlan, ramp
from bench.workload import Seq, inbound_specs
from tests.support.servers import ROOT, PostgresServer, wait_until
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN

RESULTS = ROOT / "bench" / "results"
SETUP_SERVER = ServerConfig("gevent", 1)  # the production configuration prepares the state for every run


@dataclass(frozen=True)
class Mode:
    name: str
    ramp: RampPlan
    volunteers: int        # consoles, each holding one conversation
    supervisors: int
    waiting: int           # conversations left waiting in the queue
    e2e_rates: tuple[float, ...]
    e2e_seconds: float
    reply_rate: float
    reply_seconds: float
    queued_to_add: int     # new conversations for the memory-per-queued-conversation figure


FULL = Mode("full", RampPlan(), volunteers=200, supervisors=1, waiting=20, e2e_rates=(100, 500), e2e_seconds=15,
            reply_rate=20, reply_seconds=15, queued_to_add=200)
# The smoke is a check that every part runs, in under 2 minutes on this 2-core machine (issue 17): 10
# consoles, 2-s steps, and console latency at 100/s and 200/s (issue 17's console target rate), where the
# full run has 500/s (on this machine a 500/s step only builds a backlog of ~10 s to wait out).
SMOKE = Mode("smoke", SMOKE_RAMP, volunteers=10, supervisors=1, waiting=5, e2e_rates=(100, 200), e2e_seconds=2,
             reply_rate=10, reply_seconds=2, queued_to_add=20)


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def _version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def meta(mode: Mode, pg: PostgresServer | None) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    packages = {p: metadata.version(p) for p in ("Flask", "Flask-SocketIO", "python-socketio", "gunicorn", "gevent",
                                                 "SQLAlchemy", "redis", "celery", "twilio", "psycopg", "uvloop")
                if _installed(p)}
    pg_version = None
    if pg is not None:
        import psycopg

        with psycopg.connect(pg.admin_url) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    return {"mode": mode.name, "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "git_commit": _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
            "host": {"name": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "mem_gb": mem_gb,
                     "python": platform.python_version(), "kernel": platform.release()},
            "packages": packages, "redis_server": _version(["redis-server", "--version"]), "postgres": pg_version,
            "loadavg_start": procstat.loadavg(), "params": {k: str(v) for k, v in mode.__dict__.items()}}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def cold_then_warm(gen, stack, seq, texters: list[int]) -> float:
    """Time the first webhook after a start (lexicon load, pools, imports), then warm up for 2 s."""
    first = gen.run(inbound_specs(stack.account_sid, texters[:1], seq.take(1), 1), 1, stack.signer())
    cold_ms = (first.done[0] - first.intended[0]) * 1000
    gen.run(inbound_specs(stack.account_sid, texters, seq.take(100), 100, pick="random"), 50, stack.signer())
    return round(cold_ms, 1)


ESCALATING_PER_STEP = 10
ESCALATE_WAIT_SECONDS = TIMERS["ESCALATE_WAIT_SECONDS"]


class TextlineRun:
    """One database: set up once, then measured under each server configuration."""

    def __init__(self, db: str, mode: Mode, workdir: Path, pg: PostgresServer | None, seq: Seq):
        self.db, self.mode, self.seq = db, mode, seq
        self.stack = BenchStack(workdir / db, db, pg)
        self.cookies: list[str] = []
        self.conv_of: dict[int, int] = {}
        self.texters = list(range(mode.volunteers + mode.waiting))

    def start(self, config: ServerConfig) -> None:
        log(f"{self.db}: starting Redis, database, Celery worker, web ({config.name})")
        self.stack.start(wait=False)
        self.stack.web.start(config)  # while the Celery worker starts
        self.stack.wait_ready()
        self._setup()

    def _setup(self) -> None:
        """Open one conversation per texter (their welcome texts go out), sign volunteers in, claim."""
        m, stack = self.mode, self.stack
        gen = LoadGenerator(stack.web.targets())
        try:
            log(f"{self.db}: {len(self.texters)} texters open conversations")
            gen.run(inbound_specs(stack.account_sid, self.texters, self.seq.take(len(self.texters)),
                                  len(self.texters)), 25, stack.signer())
        finally:
            gen.close()
        wait_until(lambda: len(stack.conversation_ids(self.texters)) == len(self.texters), timeout=120,
                   what="every texter's conversation")
        wait_until(lambda: stack.outbound_in_flight() == 0, timeout=300, what="welcome texts sent")
        log(f"{self.db}: signing in {m.volunteers} volunteers and {m.supervisors} supervisor(s)")
        self.cookies = stack.login_cookies(stack.add_users(m.volunteers, m.supervisors))
        ids = stack.conversation_ids(list(range(m.volunteers)))
        self.conv_of = {i: ids[i] for i in range(m.volunteers)}
        consoles = Consoles([(stack.base_url, c) for c in self.cookies])
        try:
            connected = consoles.connect()
            if connected["connected"] != len(self.cookies):
                raise RuntimeError(f"consoles did not connect: {connected}")
            claimed = consoles.claim(list(self.conv_of.items()))
            if claimed["claimed"] != m.volunteers:
                raise RuntimeError(f"claims failed: {claimed}")
            consoles.disconnect()
        finally:
            consoles.close()
        log(f"{self.db}: {m.volunteers} conversations claimed, {m.waiting} waiting")

    def throughput(self, config: ServerConfig) -> dict:
        stack = self.stack
        stack.web.start(config)  # fresh processes: every configuration starts cold, and is timed so
        gen = LoadGenerator(stack.web.targets())
        try:
            cold = cold_then_warm(gen, stack, self.seq, self.texters)
            result = ramp(gen, lambda n: inbound_specs(stack.account_sid, self.texters, self.seq.take(n), n,
                                                       pick="random"),
                          stack.signer(), stack.cpu_groups, self.mode.ramp, f"textline {self.db} {config.name}", log)
        finally:
            gen.close()
        return {"app": "textline", "db": self.db, "server": config.name, "cold_first_request_ms": cold,
                "loadgen_event_loop": gen.info["event_loop"], **result}

    def leave_waiting(self, gen, n: int) -> None:
        """n new texters whose conversations nobody claims: each escalates ESCALATE_WAIT_SECONDS later."""
        first_new = len(self.texters)
        self.texters += list(range(first_new, first_new + n))
        gen.run(inbound_specs(self.stack.account_sid, self.texters[first_new:], self.seq.take(n), n), 50,
                self.stack.signer())

    def latency(self, config: ServerConfig) -> dict:
        m, stack = self.mode, self.stack
        stack.web.start(config)
        out = {"db": self.db, "server": config.name, "consoles": len(self.cookies), "inbound": []}
        gen = LoadGenerator(stack.web.targets())
        consoles = Consoles([(stack.web.url(i % config.webs), c) for i, c in enumerate(self.cookies)])
        try:
            cold_then_warm(gen, stack, self.seq, self.texters)
            log(f"{self.db} {config.name}: connecting {len(self.cookies)} consoles")
            out["memory_consoles"] = memory.per_console(stack, consoles)
            # Escalation lateness with no load: the timers themselves (a sweep timed for each deadline),
            # before the loaded steps below add the web process's backlog to it.
            heard = len(consoles.escalations())
            self.leave_waiting(gen, ESCALATING_PER_STEP)
            time.sleep(ESCALATE_WAIT_SECONDS + 1.5)
            out["escalation_at_rest"] = escalation.summarise(consoles.escalations()[heard:])
            for rate in m.e2e_rates:
                heard = len(consoles.escalations())
                self.leave_waiting(gen, ESCALATING_PER_STEP)  # item 5: they escalate during the step
                run = latency.inbound_to_console(stack, gen, consoles, m.volunteers, rate, m.e2e_seconds, self.seq)
                v = run["to_volunteer"]
                log(f"  e2e {rate}/s: volunteer p50 {v['p50_ms']} p95 {v['p95_ms']} p99 {v['p99_ms']} ms, "
                    f"missing {run['missing_at_volunteer']}, webhook p99 {run['webhook_p99_ms']} ms")
                out["inbound"].append(run)
                procstat.wait_quiet(stack.web.worker_pids())  # an overloaded step leaves a backlog behind
                # The escalations that fell due during this step and its backlog: lateness at this load.
                run["escalation"] = escalation.summarise(consoles.escalations()[heard:])
            wait_until(lambda: stack.outbound_in_flight() == 0, timeout=120, what="quiet outbox")
            out["outbound"] = latency.reply_to_twilio(stack, consoles, self.conv_of, m.reply_rate,
                                                      m.reply_seconds, self.seq)
            o = out["outbound"]
            log(f"  replies {m.reply_rate}/s: to Twilio p50 {o['to_twilio']['p50_ms']} p99 {o['to_twilio']['p99_ms']} "
                f"ms, missing {o['missing_at_twilio']}")
            out["escalation"] = escalation.summarise(consoles.escalations())
            consoles.disconnect()
            procstat.wait_quiet(stack.web.worker_pids())
            first_new = len(self.texters)
            self.texters += list(range(first_new, first_new + m.queued_to_add))
            out["memory_queue"] = memory.per_queued_conversation(stack, gen, first_new, m.queued_to_add, self.seq)
        except Exception as exc:  # keep what was measured; the error is reported with the results
            out["error"] = repr(exc)
            log(f"{self.db} {config.name} latency/memory FAILED: {exc!r}\n{traceback.format_exc()}")
        finally:
            consoles.close()
            gen.close()
        return out

    def stop(self) -> None:
        self.stack.stop()


def floor_throughput(run: TextlineRun, config: ServerConfig) -> dict:
    """The floor on this database, same ramp, same signed request bytes as Textline (its web processes stop
    meanwhile, so they take no CPU from it)."""
    run.stack.web.stop()
    floor = FloorServer(run.stack)
    floor.web.start(config)
    gen = LoadGenerator(floor.web.targets())
    specs = lambda n: inbound_specs(FAKE_ACCOUNT_SID, run.texters, run.seq.take(n), n, pick="random")  # noqa: E731
    try:
        first = gen.run(specs(1), 1, run.stack.signer())
        cold = round((first.done[0] - first.intended[0]) * 1000, 1)
        gen.run(specs(100), 50, run.stack.signer())  # warm up, as Textline's ramp is
        result = ramp(gen, specs, run.stack.signer(), floor.cpu_groups, run.mode.ramp,
                      f"floor {run.db} {config.name}", log)
    finally:
        gen.close()
        floor.stop()
    return {"app": "floor", "db": run.db, "server": config.name, "cold_first_request_ms": cold, **result}


# The bare endpoint checks nothing, but it gets the same signed bytes as Textline and the floor.
BARE_SIGNER = {"auth_token": FAKE_AUTH_TOKEN, "base_url": "http://127.0.0.1:5000", "host": "127.0.0.1:5000"}


def bare_throughput(config: ServerConfig, mode: Mode, workdir: Path, seq: Seq) -> dict:
    bare = BareServer(workdir / "bare")
    bare.web.start(config)
    gen = LoadGenerator(bare.web.targets())
    texters = list(range(mode.volunteers + mode.waiting))
    specs = lambda n: inbound_specs(FAKE_ACCOUNT_SID, texters, seq.take(n), n, pick="random")  # noqa: E731
    try:
        gen.run(specs(100), 50, BARE_SIGNER)  # warm up
        result = ramp(gen, specs, BARE_SIGNER, bare.cpu_groups, mode.ramp, f"bare {config.name}", log)
    finally:
        gen.close()
        bare.stop()
    return {"app": "bare", "db": None, "server": config.name, **result}


def pick_server(by_server: dict[str, dict]) -> tuple[str, str]:
    """Highest sustained Textline webhooks/s on one process; within 15% (noise on a shared machine),
    the one that spends less web CPU per webhook."""
    best = max(by_server, key=lambda s: by_server[s]["max_sustained_rps"])
    top = by_server[best]["max_sustained_rps"]
    close = [s for s, r in by_server.items() if r["max_sustained_rps"] >= 0.85 * top and r["best_step"]]
    if len(close) > 1:
        cheapest = min(close, key=lambda s: by_server[s]["best_step"]["web_cpu_ms_per_req"])
        return cheapest, "within 15% of the best webhooks/s on 1 process, and the least web CPU per webhook"
    return best, "highest sustained Textline webhooks/s on 1 process"


def _cpu_ratio(top: dict, below: dict) -> float | None:
    """Median over the offered rates both ramps ran of top's web CPU per request ÷ below's (both ramps start
    at the same rate and grow by the same factor)."""
    below_cpu = {s["offered_rps"]: s.get("web_cpu_ms_per_req") for s in below["steps"]}
    pairs = [s["web_cpu_ms_per_req"] / below_cpu[s["offered_rps"]] for s in top["steps"]
             if s.get("web_cpu_ms_per_req") and below_cpu.get(s["offered_rps"])]
    return round(statistics.median(pairs), 2) if pairs else None


def _max_ratio(fast: dict | None, slow: dict | None) -> float | None:
    """How many times more webhooks/s `fast` sustained than `slow`: the cost ratio slow ÷ fast by max/s."""
    if not fast or not slow or not slow["max_sustained_rps"]:
        return None
    return round(fast["max_sustained_rps"] / slow["max_sustained_rps"], 2)


def ratios(throughput: list[dict]) -> list[dict]:
    """Per database and server config, the cost ratios by max/s and by web CPU per request: Textline ÷ floor
    (what Textline does beyond the least any text line must), floor ÷ bare (what that least costs over the
    framework) and Textline ÷ bare. CPU per request barely depends on what else runs on the machine, so
    the CPU ratios are the steadier ones on a shared machine."""
    bare = {r["server"]: r for r in throughput if r["app"] == "bare"}
    floor = {(r["db"], r["server"]): r for r in throughput if r["app"] == "floor"}
    out = []
    for r in throughput:
        if r["app"] != "textline":
            continue
        b, f = bare.get(r["server"]), floor.get((r["db"], r["server"]))
        out.append({"db": r["db"], "server": r["server"], "textline_max_rps": r["max_sustained_rps"],
                    "floor_max_rps": f["max_sustained_rps"] if f else None,
                    "bare_max_rps": b["max_sustained_rps"] if b else None,
                    "textline_over_floor_max": _max_ratio(f, r), "floor_over_bare_max": _max_ratio(b, f),
                    "capacity_ratio": _max_ratio(b, r),
                    "textline_over_floor_cpu": _cpu_ratio(r, f) if f else None,
                    "floor_over_bare_cpu": _cpu_ratio(f, b) if f and b else None,
                    "cpu_ratio": _cpu_ratio(r, b) if b else None})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="tens of seconds per part: a check that it all runs")
    ap.add_argument("--db", help="comma-separated: sqlite, postgres (smoke: sqlite)")
    ap.add_argument("--servers", help="gunicorn worker classes to compare: gevent, gthread (smoke: gevent)")
    ap.add_argument("--webs", help="web process counts to measure: 1, 2 (smoke: 1)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: throughput, floor, bare, latency")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--consoles", type=int, help="volunteer consoles (each holding a conversation)")
    ap.add_argument("--e2e-rates", help="comma-separated msg/s of the console latency steps")
    args = ap.parse_args(argv)
    mode = SMOKE if args.smoke else FULL
    if args.consoles:  # e.g. issue 17: 500 consoles across 2 web processes at 200 msg/s
        mode = replace(mode, volunteers=args.consoles)
    if args.e2e_rates:
        mode = replace(mode, e2e_rates=tuple(float(r) for r in args.e2e_rates.split(",")))
    dbs = [d for d in (args.db or ("sqlite" if args.smoke else "sqlite,postgres")).split(",") if d]
    servers = [s for s in (args.servers or ("gevent" if args.smoke else "gevent,gthread")).split(",") if s]
    webs = [int(w) for w in (args.webs or ("1" if args.smoke else "1,2")).split(",") if w]
    skip = set(args.skip.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="textline-bench-"))
    pg = PostgresServer(workdir).start() if "postgres" in dbs else None
    results = {"meta": meta(mode, pg), "throughput": [], "latency": [], "errors": []}
    log(f"{mode.name} run; load average {results['meta']['loadavg_start']}; work dir {workdir}")
    seq = Seq()
    chosen = servers[0]
    try:
        for n, db in enumerate(dbs):
            run = TextlineRun(db, mode, workdir, pg, seq)
            try:
                run.start(SETUP_SERVER)
                if "throughput" not in skip:
                    if n == 0:  # compare worker classes once, on one process, then keep the best
                        by_server = {s: run.throughput(ServerConfig(s, 1)) for s in servers}
                        results["throughput"] += by_server.values()
                        chosen, why = pick_server(by_server)
                        results["server_choice"] = f"{chosen} ({why})"
                        more = [w for w in webs if w != 1]
                    else:
                        more = webs
                    for w in more:
                        results["throughput"].append(run.throughput(ServerConfig(chosen, w)))
                    if "floor" not in skip:  # the floor under every configuration Textline ran on this database
                        for name in [r["server"] for r in results["throughput"] if r["db"] == db]:
                            worker_class, webs_ = name.split(" x")
                            results["throughput"].append(floor_throughput(run, ServerConfig(worker_class,
                                                                                            int(webs_))))
                if "latency" not in skip:
                    mine = [r for r in results["throughput"] if r["db"] == db and r["server"].startswith(chosen)]
                    best = max(mine, key=lambda r: r["max_sustained_rps"], default=None)
                    n_webs = int(best["server"].split("x")[1]) if best else max(webs)
                    lat = run.latency(ServerConfig(chosen, n_webs))
                    results["latency"].append(lat)
                    if lat.get("error"):
                        results["errors"].append(f"{db} latency: {lat['error']}")
            except Exception as exc:
                results["errors"].append(f"{db}: {exc!r}")
                log(f"{db} FAILED: {exc!r}\n{traceback.format_exc()}\n{run.stack.logs()[-6000:]}")
            finally:
                run.stop()
        if "bare" not in skip and "throughput" not in skip:
            done = set()
            for config in [ServerConfig(s, 1) for s in servers] + [ServerConfig(chosen, w) for w in webs]:
                if config.name not in done:
                    done.add(config.name)
                    results["throughput"].append(bare_throughput(config, mode, workdir, seq))
        results["ratios"] = ratios(results["throughput"])
    finally:
        results["meta"]["loadavg_end"] = procstat.loadavg()
        if pg is not None:
            pg.stop()
        stem = f"{mode.name}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}"
        paths = report.write(results, args.out, stem)
        print()
        print(report.table(results))
        print()
        for kind, path in paths.items():
            print(f"{kind}: {path}")
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
