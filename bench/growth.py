"""Issue 17, part 3: Textline's CPU per webhook against the number of conversations waiting in the queue.

    BENCH_TOOL=growth ./bench/run.sh [--db sqlite|postgres] [--waiting 10,100,1000] [--webhooks 300] [--rounds 3]
    .venv/bin/python -m bench.growth --plot bench/results/growth-*.json     # re-draw from saved results
    .venv/bin/python -m bench.growth --plot AFTER.json --before BEFORE.json  # two commits side by side

Runs bench/cpu_per_webhook.py once per queue length, each in a fresh process (the app is created once per
process), with the same 25 texting texters (20 claimed, 5 waiting); the extra waiting texters open their
conversations first and then stay quiet. Writes bench/results/growth-<db>-<time>.json (every round) and
.png (median CPU per webhook and SQL statements per webhook against the queue length).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def measure(db: str, waiting: int, webhooks: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cpu.json"
        subprocess.run([sys.executable, "-m", "bench.cpu_per_webhook", "--db", db, "--apps", "textline",
                        "--waiting", str(waiting), "--webhooks", str(webhooks), "--rounds", str(rounds),
                        "--json", str(out)], check=True, stderr=subprocess.DEVNULL)  # the app's logs
        return json.loads(out.read_text())


def summary(runs: list[dict]) -> list[dict]:
    rows = []
    for run in sorted(runs, key=lambda r: r["waiting"]):
        rounds = run["rounds"]["textline"]
        rows.append({"waiting": run["waiting"], "cpu_ms_median": run["median_cpu_ms"]["textline"],
                     "cpu_ms_min": min(r["cpu_ms"] for r in rounds), "cpu_ms_max": max(r["cpu_ms"] for r in rounds),
                     "sql_per_webhook": statistics.median(r["sql"] for r in rounds),
                     "opening_cpu_ms": run.get("opening", {}).get("cpu_ms"),
                     "opening_sql": run.get("opening", {}).get("sql"),
                     "redis_per_webhook": {k: statistics.median(r["redis"].get(k, 0) for r in rounds)
                                           for k in sorted({k for r in rounds for k in r["redis"]})}})
    return rows


def plot(rows: list[dict], title: str, path: Path, before: list[dict] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["waiting"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ax.errorbar(xs, [r["cpu_ms_median"] for r in rows],
                yerr=[[r["cpu_ms_median"] - r["cpu_ms_min"] for r in rows],
                      [r["cpu_ms_max"] - r["cpu_ms_median"] for r in rows]], marker="o", capsize=4,
                label="ms CPU per webhook (median, min-max of rounds)")
    if all(r.get("opening_cpu_ms") for r in rows):
        ax.plot(xs, [r["opening_cpu_ms"] for r in rows], marker="^", color="tab:red",
                label="ms CPU per text that opens a conversation (its one row sent)")
    if before:  # the same measurement of an earlier commit, side by side
        ax.plot([r["waiting"] for r in before], [r["cpu_ms_median"] for r in before], marker="o",
                color="tab:blue", linestyle="--", alpha=0.5, label="before: ms CPU per webhook")
        ax.plot([r["waiting"] for r in before], [r["opening_cpu_ms"] for r in before], marker="^",
                color="tab:red", linestyle="--", alpha=0.5,
                label="before: ms CPU per text that opens a conversation (whole queue re-sent)")
    ax.set(xscale="log", yscale="log", xlabel="conversations waiting in the queue", ylabel="ms CPU per webhook")
    ax2 = ax.twinx()
    ax2.plot(xs, [r["sql_per_webhook"] for r in rows], marker="s", color="tab:orange", linestyle=":",
             label="SQL statements per webhook")
    ax2.set(ylabel="SQL statements per webhook", ylim=(0, None))
    fig.legend(loc="lower center", fontsize=7, ncol=1)
    ax.set_title(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--waiting", default="10,100,1000")
    ap.add_argument("--webhooks", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--plot", type=Path, nargs="*", help="cpu_per_webhook --json files or a growth JSON to draw")
    ap.add_argument("--before", type=Path, help="a growth JSON of an earlier commit, drawn dashed beside this one")
    args = ap.parse_args(argv)
    if args.plot:
        loaded = [json.loads(p.read_text()) for p in args.plot]
        runs = [r for x in loaded for r in (x["runs"] if "runs" in x else [x])]
        stem = args.plot[0].with_suffix("") if len(args.plot) == 1 else None
    else:
        runs = []
        for waiting in [int(w) for w in args.waiting.split(",")]:
            runs.append(measure(args.db, waiting, args.webhooks, args.rounds))
            print(f"{waiting} waiting: {runs[-1]['median_cpu_ms']['textline']:.3f} ms CPU per webhook", flush=True)
        stem = None
    rows = summary(runs)
    db = runs[0]["db"]
    stem = stem or RESULTS / f"growth-{db}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}"
    Path(f"{stem}.json").write_text(json.dumps({"rows": rows, "runs": runs}, indent=1))
    before = json.loads(args.before.read_text())["rows"] if args.before else None
    plot(rows, f"Textline CPU per webhook against queue length ({db}, in-process, "
               f"{runs[0]['webhooks_per_round']} webhooks x {len(runs[0]['rounds']['textline'])} rounds)",
         Path(f"{stem}.png"), before)
    for r in rows:
        print(f"{r['waiting']:5} waiting: {r['cpu_ms_median']:.3f} ms CPU/webhook ({r['cpu_ms_min']:.3f}-"
              f"{r['cpu_ms_max']:.3f}), {r['sql_per_webhook']:.2f} SQL/webhook; a text opening a conversation "
              f"{r.get('opening_cpu_ms')} ms, {r.get('opening_sql')} SQL; Redis "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["redis_per_webhook"].items()))
    print(f"written {stem}.json, {stem}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
