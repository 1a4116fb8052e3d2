"""The benchmark's outputs: a plain-text table, the JSON of everything measured, a PNG plot."""
from __future__ import annotations

import json
from pathlib import Path


def _f(value, digits=1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _row(cells, widths) -> str:
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _table(header, rows) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    return [_row(header, widths), _row(["-" * w for w in widths], widths), *(_row(r, widths) for r in rows)]


def table(results: dict) -> str:
    m = results["meta"]
    out = [f"Textline benchmark ({m['mode']}) {m['started_utc']}  {m['host']['cpu']} x{m['host']['cores']}, "
           f"{m['host']['mem_gb']} GB, Python {m['host']['python']}",
           f"load average at start {m['loadavg_start']}, at end {m.get('loadavg_end')}  "
           "(the load generator, the consoles and the stack share these cores; so do other jobs on the machine)",
           ""]
    out.append("1-2. Signed inbound webhooks/s sustained at p99 < 100 ms (open loop, rising load)")
    rows = []
    for r in results["throughput"]:
        b = r.get("best_step") or {}
        rows.append([r["app"], r["db"] or "-", r["server"], _f(r["max_sustained_rps"], 0),
                     _f(b.get("p50_ms")), _f(b.get("p99_ms")), _f(b.get("web_cpu_ms_per_req"), 2),
                     _f(b.get("client_cpu_us_per_req")), _f(b.get("client_cpu_share"), 2),
                     _f(r.get("cold_first_request_ms"), 0), _f(b.get("other_cores"), 2),
                     " ".join(_f(x, 2) for x in b.get("loadavg", []))])
    out += _table(["app", "db", "server", "max/s", "p50 ms", "p99 ms", "web CPU ms/req", "client us/req",
                   "client cores", "cold 1st ms", "others' cores", "load avg"], rows)
    if results.get("ratios"):
        out.append("")
        out.append("Headline: cost ratios, same server config, same request bytes. By max/s: how many times more "
                   "webhooks/s the cheaper one sustained; by web CPU/req: median over the offered rates both ran.")
        out.append("floor = bench/floor_app.py: signature check, one INSERT committed, one Redis PUBLISH, empty TwiML")
        rows = [[x["db"], x["server"], _f(x.get("textline_max_rps"), 0), _f(x.get("floor_max_rps"), 0),
                 _f(x.get("bare_max_rps"), 0),
                 _f(x.get("textline_over_floor_max"), 2), _f(x.get("textline_over_floor_cpu"), 2),
                 _f(x.get("floor_over_bare_max"), 2), _f(x.get("floor_over_bare_cpu"), 2),
                 _f(x.get("capacity_ratio"), 2), _f(x.get("cpu_ratio"), 2)] for x in results["ratios"]]
        out += _table(["db", "server", "textline max/s", "floor max/s", "bare max/s",
                       "textline÷floor max/s", "textline÷floor CPU", "floor÷bare max/s", "floor÷bare CPU",
                       "textline÷bare max/s", "textline÷bare CPU"], rows)
    if results.get("server_choice"):
        out.append(f"server picked for the rest: {results['server_choice']}")
    out.append("")
    out.append("3. Webhook POST -> `message` event at the volunteer's console (Socket.IO)")
    rows = []
    for lat in results.get("latency", []):
        for run in lat["inbound"]:
            v = run["to_volunteer"]
            rows.append([lat["db"], lat["server"], lat["consoles"], _f(run["offered_rps"], 0),
                         _f(run["achieved_rps"]), _f(v["p50_ms"]), _f(v["p95_ms"]), _f(v["p99_ms"]),
                         _f(run["to_supervisor"]["p99_ms"]), run["missing_at_volunteer"], _f(run["webhook_p99_ms"])])
    out += _table(["db", "server", "consoles", "msg/s", "achieved/s", "p50 ms", "p95 ms", "p99 ms",
                   "supervisor p99", "missing", "webhook p99"], rows)
    out.append("")
    out.append("4. Volunteer reply -> the fake Twilio receives the REST call (Celery worker, twilio client)")
    rows = []
    for lat in results.get("latency", []):
        o = lat.get("outbound")
        if o:
            rows.append([lat["db"], lat["server"], _f(o["offered_rps"], 0), o["replies"], _f(o["to_twilio"]["p50_ms"]),
                         _f(o["to_twilio"]["p99_ms"]), _f(o["socket_ack"]["p99_ms"]), o["missing_at_twilio"]])
    out += _table(["db", "server", "replies/s", "replies", "p50 ms", "p99 ms", "socket ack p99", "missing"], rows)
    out.append("")
    out.append("5. Escalation lateness against deadline, under load")
    for lat in results.get("latency", []):
        e = lat.get("escalation", {})
        if e.get("available"):
            late = e["lateness"]
            out.append(f"  {lat['db']} {lat['server']}: p50 {late['p50_ms']} ms, p99 {late['p99_ms']} ms, "
                       f"max {late['max_ms']} ms ({late['n']} escalations)")
            rest = lat.get("escalation_at_rest", {})
            if rest.get("available"):
                late = rest["lateness"]
                out.append(f"    at rest (no load): p50 {late['p50_ms']} ms, p99 {late['p99_ms']} ms ({late['n']})")
            for run in lat.get("inbound", []):  # by the load they fell due under
                step = run.get("escalation", {})
                if step.get("available"):
                    late = step["lateness"]
                    out.append(f"    during the {_f(run['offered_rps'], 0)}/s step ({_f(run['achieved_rps'], 1)}/s "
                               f"absorbed): p50 {late['p50_ms']} ms, p99 {late['p99_ms']} ms ({late['n']})")
        else:
            out.append(f"  {lat['db']} {lat['server']}: {e.get('reason', 'not measured')}")
    out.append("")
    out.append("6. Memory")
    rows = []
    for lat in results.get("latency", []):
        c, q = lat.get("memory_consoles", {}), lat.get("memory_queue", {})
        rows.append([lat["db"], lat["server"], c.get("consoles"), _f(c.get("web_kb_per_console")),
                     q.get("conversations"), _f(q.get("web_kb_per_conversation"), 2),
                     q.get("queue_key_bytes_per_conversation"), q.get("redis_bytes_per_conversation")])
    out += _table(["db", "server", "consoles", "web KB/console", "queued convs", "web KB/conv",
                   "queue key B/conv", "Redis total B/conv"], rows)
    return "\n".join(out)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 5.5))
    for r in results["throughput"]:
        steps = sorted(r["steps"], key=lambda s: s["offered_rps"])
        xs = [s["offered_rps"] for s in steps]
        label = f"{r['app']} {r['db'] or ''} {r['server']}".replace("  ", " ")
        line, = ax.plot(xs, [s["p99_ms"] for s in steps], marker="o", label=f"{label} p99")
        ax.plot(xs, [s["p50_ms"] for s in steps], linestyle=":", color=line.get_color())
    ax.axhline(100, color="red", linewidth=0.8, linestyle="--")
    ax.set(xscale="log", yscale="log", xlabel="offered webhooks/s", ylabel="webhook latency ms (p99 solid, p50 dotted)",
           title="Webhook latency against load")
    ax.legend(fontsize=7)
    for lat in results.get("latency", []):
        runs = lat["inbound"]
        xs = [x["offered_rps"] for x in runs]
        label = f"{lat['db']} {lat['server']}"
        line, = ax2.plot(xs, [x["to_volunteer"]["p99_ms"] for x in runs], marker="o", label=f"{label} p99")
        ax2.plot(xs, [x["to_volunteer"]["p50_ms"] for x in runs], marker=".", linestyle=":", color=line.get_color(),
                 label=f"{label} p50")
    ax2.axhline(50, color="red", linewidth=0.8, linestyle="--")
    ax2.set(yscale="log", xlabel="texts/s", ylabel="ms", title="Webhook POST -> volunteer console event")
    ax2.legend(fontsize=7)
    fig.suptitle(f"Textline {results['meta']['mode']} run {results['meta']['started_utc']} "
                 f"(load avg at start {results['meta']['loadavg_start']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, out_dir: Path, stem: str) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "table": out_dir / f"{stem}.txt", "plot": out_dir / f"{stem}.png"}
    paths["json"].write_text(json.dumps(results, indent=1, default=str))
    paths["table"].write_text(table(results) + "\n")
    plot(results, paths["plot"])
    return paths


def main(argv=None) -> int:
    """Re-render the table and plot of a results JSON (ratios recomputed): python -m bench.report FILE.json"""
    import argparse

    from bench.run import ratios

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("json", type=Path)
    args = ap.parse_args(argv)
    results = json.loads(args.json.read_text())
    results["ratios"] = ratios(results["throughput"])
    paths = write(results, args.json.parent, args.json.stem)
    print(table(results))
    print("\n".join(f"{k}: {v}" for k, v in paths.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
