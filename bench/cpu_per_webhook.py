"""CPU time per inbound webhook of Textline, the floor and the bare endpoint, side by side in one process,
steady enough to compare on a shared machine (CPU time, unlike throughput, hardly depends on what the
neighbours run).

    BENCH_TOOL=cpu_per_webhook ./bench/run.sh [--db sqlite|postgres] [--webhooks 1000] [--rounds 3]
        [--waiting 5] [--apps bare,floor,textline] [--json FILE] [--profile FILE.pstats]

The apps run in this process (as in sql_per_webhook) against a private Redis and a fresh database:
25 texters open conversations, a volunteer claims 20 of them, 5 stay waiting (as in the smoke run's
standing state); `--waiting N` leaves N conversations waiting in all (the N - 5 extra texters open theirs
before the rounds and then stay quiet: the webhooks are the same, only the queue is longer). The floor
(bench/floor_app.py) is built from Textline's own settings, so it writes to the same database through the
same engine options and publishes to the same Redis; the bare endpoint is bench/bare_app.py. Each round
sends every app the same number of signed webhooks, from the same texters in the same order (fresh
MessageSids per app), apps in a rotating order, through Flask's test client.

Reported per app and round: this process's CPU ms per webhook (the whole app: signature, SQL, risk, Redis,
emits; plus the test client, which all three pay alike; not gunicorn's HTTP parsing), SQL statements per
webhook, and Redis commands per webhook by name (from the server's own INFO commandstats; PUBLISH =
Socket.IO emits). Celery is not eager: outgoing.send() only enqueues (LPUSH). Then the ratios of the
medians: Textline ÷ floor, floor ÷ bare, Textline ÷ bare. On a busy machine CPU time still moves by 10-15%
(shared cores); the counts do not. `--profile` runs one more Textline round under cProfile and prints where
its time goes.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import redis
from sqlalchemy import event

from bench.bare_app import app as bare_app
from bench.floor_app import create_app as create_floor
from bench.inprocess import app_with_database, signed_inbound
from bench.workload import body, texter_number

TEXTERS, CLAIMED = 25, 20
APPS = ("bare", "floor", "textline")
OPENS = 20  # new conversations opened after the rounds, to time what an opening text costs
# Steps of Textline's inbound path for --profile: label -> the functions (file ending, name) whose inclusive
# CPU time it is. Indented labels are inside the step above them.
STEPS = [
    ("whole request through the test client", [("bench/cpu_per_webhook.py", "post")]),
    ("the webhook view (texting/webhooks.py inbound)", [("texting/webhooks.py", "inbound")]),
    ("  signature check (twilio RequestValidator)", [("texting/twilio_gateway.py", "request_is_from_twilio")]),
    ("  receive_inbound: store it (one transaction)", [("texting/inbound.py", "receive_inbound")]),
    ("    risk scoring of the text (score_text)", [("risk/scorer.py", "score_text")]),
    ("    texter, open conversation, block: one look-up (_look_up)", [("texting/inbound.py", "_look_up")]),
    ("    risk in the conversation (risk_in_conversation)", [("risk/in_conversation.py", "risk_in_conversation")]),
    ("    inbound_rules.apply (keywords, automatic texts)", [("texting/inbound_rules.py", "apply")]),
    ("    ORM flush + commit (_commit_keeping_values)", [("texting/inbound.py", "_commit_keeping_values")]),
    ("  metrics (Redis pipeline, 2 HINCRBY)", [("ops/metrics.py", "inc_all")]),
    ("  announce_inbound: after the commit", [("texting/inbound.py", "announce_inbound")]),
    ("    Socket.IO emit of the message (broadcast.message_added)", [("textline/broadcast.py", "message_added")]),
    ("    queue row / whole queue to the consoles", [("texting/queue_sync.py", "publish_queue_item"),
                                                    ("texting/queue_sync.py", "publish_queue")]),
    ("    escalation timer (timers.schedule: Redis SET NX)", [("safety/timers.py", "schedule")]),
    ("logging (every handler call: JSON formatting and write)", [("logging/__init__.py", "handle")]),
    ("SQLAlchemy session teardown (scoped_session.remove)", [("orm/scoping.py", "remove")]),
]


def profile_steps(stats: pstats.Stats, webhooks: int) -> list[tuple[str, float, float]]:
    """(label, ms per webhook, share of the whole request) for each of STEPS, from a CPU-clock profile."""
    seconds = {label: 0.0 for label, _ in STEPS}
    for (path, _line, func), (_cc, _nc, _tt, cumtime, _callers) in stats.stats.items():
        for label, functions in STEPS:
            if any(func == name and path.endswith(ending) for ending, name in functions):
                seconds[label] += cumtime
    whole = seconds[STEPS[0][0]] or 1.0
    return [(label, t * 1000 / webhooks, t / whole) for label, t in seconds.items()]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--webhooks", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--waiting", type=int, default=TEXTERS - CLAIMED, help="conversations waiting in the queue")
    ap.add_argument("--apps", default=",".join(APPS))
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--profile", type=Path, help="cProfile one more Textline round; pstats written here")
    args = ap.parse_args(argv)
    apps = [a for a in args.apps.split(",") if a]
    extra_waiting = max(0, args.waiting - (TEXTERS - CLAIMED))
    with app_with_database(args.db, "cpu", capacity=CLAIMED) as (app, redis_url):
        from textline.extensions import db
        from textline.models import User
        from textline.texting import conversations

        floor = create_floor(app.config)
        clients = {"textline": app.test_client(), "floor": floor.test_client(), "bare": bare_app.test_client()}
        seq = iter(range(10**9))

        def signed(i: int) -> tuple[dict, dict]:
            return signed_inbound(texter_number(i), body(next(seq)))

        def post(name: str, request: tuple[dict, dict]) -> int:
            params, headers = request
            return clients[name].post("/sms/inbound", data=params, headers=headers).status_code

        with app.app_context():
            volunteer_id = db.session.scalar(db.select(User.id))
        for i in range(TEXTERS):
            assert post("textline", signed(i)) == 200
        statements = {"textline": [], "floor": [], "bare": []}
        checkouts = []
        with app.app_context():
            for conv_id in conversations.queue.ordered_ids()[:CLAIMED]:
                conversations.claim(conv_id, db.session.get(User, volunteer_id))
            t0 = time.perf_counter()
            for i in range(TEXTERS, TEXTERS + extra_waiting):  # a longer queue; these texters stay quiet
                assert post("textline", signed(i)) == 200
            waiting = len(conversations.queue.ordered_ids(limit=100_000))
            if extra_waiting:
                print(f"opened {extra_waiting} more waiting conversations in {time.perf_counter() - t0:.1f} s")
            event.listen(db.engine, "before_cursor_execute", lambda *_a: statements["textline"].append(1))
            # With pool_pre_ping every checkout is also a "SELECT 1" round trip, unseen by the listener above.
            pre_ping = db.engine.pool._pre_ping
            event.listen(db.engine, "checkout", lambda *_a: checkouts.append(1))
        event.listen(floor.extensions["floor_engine"], "before_cursor_execute",
                     lambda *_a: statements["floor"].append(1))
        stats = redis.Redis.from_url(redis_url)

        def redis_calls() -> Counter:
            return Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.info("commandstats").items()})

        def one_round(name: str, texters: list[int], profile: cProfile.Profile | None = None) -> dict:
            requests = [signed(t) for t in texters]  # signed before timing
            statements[name].clear()
            checkouts.clear()
            calls0 = redis_calls()
            if profile:
                profile.enable()
            cpu0 = time.process_time()
            failed = sum(1 for request in requests if post(name, request) != 200)
            cpu_ms = (time.process_time() - cpu0) * 1000 / len(requests)
            if profile:
                profile.disable()
            calls = redis_calls() - calls0
            calls["info"] -= 1
            n = len(requests)
            return {"cpu_ms": round(cpu_ms, 4), "failed": failed, "sql": round(len(statements[name]) / n, 2),
                    "pings": round(len(checkouts) / n, 2) if name == "textline" and pre_ping else 0.0,
                    "redis": {k: round(v / n, 2) for k, v in calls.most_common() if v > 0}}

        rng = random.Random(5)
        print(f"{args.db}: {args.webhooks} webhooks per round and app, {TEXTERS} texters ({CLAIMED} claimed, "
              f"{TEXTERS - CLAIMED} waiting and texting), {waiting} conversations waiting in the queue")
        rounds: dict[str, list[dict]] = {a: [] for a in apps}
        for r in range(args.rounds):
            texters = [rng.randrange(TEXTERS) for _ in range(args.webhooks)]
            order = apps[r % len(apps):] + apps[:r % len(apps)]  # rotate: no app always runs first
            for name in order:
                result = one_round(name, texters)
                rounds[name].append(result)
                pings = f" + {result['pings']:.2f} pings" if result["pings"] else ""
                print(f"  round {r + 1} {name:8}: {result['cpu_ms']:.3f} ms CPU per webhook, {result['sql']:.2f} "
                      f"SQL statements{pings}, "
                      f"{result['failed']} failed; Redis commands per webhook: "
                      + (", ".join(f"{k} {v:.2f}" for k, v in result["redis"].items()) or "none"))
        median = {a: round(statistics.median(x["cpu_ms"] for x in rounds[a]), 4) for a in apps}
        ratios = {"textline_over_floor": _ratio(median.get("textline"), median.get("floor")),
                  "floor_over_bare": _ratio(median.get("floor"), median.get("bare")),
                  "textline_over_bare": _ratio(median.get("textline"), median.get("bare"))}
        print("median ms CPU per webhook (includes the test client): "
              + ", ".join(f"{a} {median[a]:.3f}" for a in apps))
        print("ratios: " + ", ".join(f"{k.replace('_over_', ' ÷ ')} {v}" for k, v in ratios.items() if v))
        out = {"db": args.db, "webhooks_per_round": args.webhooks, "texters": TEXTERS, "claimed": CLAIMED,
               "waiting": waiting, "median_cpu_ms": median, "ratios": ratios, "rounds": rounds}
        if "textline" in apps:
            # A text from a new texter opens a conversation, which re-sends the whole queue to the consoles:
            # what that costs at this queue length (each one makes the queue one longer).
            first_new = TEXTERS + extra_waiting
            opening = one_round("textline", list(range(first_new, first_new + OPENS)))
            out["opening"] = opening
            print(f"  {OPENS} texts opening new conversations: {opening['cpu_ms']:.3f} ms CPU per webhook, "
                  f"{opening['sql']:.2f} SQL statements; Redis: "
                  + ", ".join(f"{k} {v:.2f}" for k, v in opening["redis"].items()))
        if args.profile:
            profile = cProfile.Profile(time.process_time)  # CPU time, as measured above, not waiting
            texters = [rng.randrange(TEXTERS) for _ in range(args.webhooks)]
            result = one_round("textline", texters, profile)
            profile.dump_stats(str(args.profile))
            print(f"profiled Textline round: {result['cpu_ms']:.3f} ms CPU per webhook under cProfile; "
                  f"written {args.profile}")
            stats = pstats.Stats(profile)
            print("where Textline's CPU goes (cProfile on the CPU clock; the profiler itself inflates many small "
                  "calls, so read shares, not ms):")
            out["profile"] = []
            for label, ms, share in profile_steps(stats, args.webhooks):
                print(f"  {label:72} {ms:7.3f} ms  {share * 100:5.1f}%")
                out["profile"].append({"step": label.strip(), "ms": round(ms, 3), "share": round(share, 3)})
            stats.sort_stats("tottime").print_stats(25)
        if args.json:
            args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
