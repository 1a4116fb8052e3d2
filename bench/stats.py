"""Percentiles and the summary of one load step."""
from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (no interpolation: p99 of 100 values is the 99th value)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def latency_summary(latencies_s: list[float]) -> dict:
    return {"n": len(latencies_s), "p50_ms": ms(percentile(latencies_s, 50)),
            "p95_ms": ms(percentile(latencies_s, 95)), "p99_ms": ms(percentile(latencies_s, 99)),
            "max_ms": ms(max(latencies_s) if latencies_s else None)}


def summarise_step(step, cpu: dict, ok_status: int = 200) -> dict:
    """Latency counted from each request's due time (open loop); throughput = good answers per second."""
    n = len(step)
    good, lat, service, lag = 0, [], [], []
    last_done = step.intended[0] if n else 0.0
    bad_status: dict[str, int] = {}
    for i in range(n):
        d = step.done[i]
        if d == d:  # not NaN: an answer came back
            lat.append(d - step.intended[i])
            service.append(d - step.sent[i])
            last_done = max(last_done, d)
            if step.status[i] == ok_status:
                good += 1
            else:
                bad_status[str(step.status[i])] = bad_status.get(str(step.status[i]), 0) + 1
        if step.sent[i] == step.sent[i]:
            lag.append(step.sent[i] - step.intended[i])
    span = (last_done - step.intended[0]) if n else 0.0
    failed = n - good
    out = {
        "offered_rps": round(step.rate, 1),
        "requests": n,
        "achieved_rps": round(good / span, 1) if span > 0 else 0.0,
        "failed": failed,
        "errors": {**step.errors, **({"status": bad_status} if bad_status else {})},
        **{k: v for k, v in latency_summary(lat).items() if k != "n"},
        "service_p99_ms": ms(percentile(service, 99)),
        "client_lag_p99_ms": ms(percentile(lag, 99)),
        "client_cpu_us_per_req": round(step.client_cpu_s / n * 1e6, 1) if n else None,
        "client_cpu_share": round(step.client_cpu_s / step.client_wall_s, 3) if step.client_wall_s else None,
    }
    out.update(cpu_fields(cpu, good))
    # Cores busy with processes that are not part of the benchmark (other jobs on a shared machine).
    ours = sum(cpu["cpu_s"].values()) + (0 if "loadgen" in cpu["cpu_s"] else step.client_cpu_s)
    out["other_cores"] = round(max(0.0, cpu["machine_busy"] * cpu["cores"] - ours / cpu["wall_s"]), 2)
    return out


def cpu_fields(cpu: dict, requests: int) -> dict:
    """CPU per request for each process group, and how busy the whole machine was."""
    per_req = {f"{name}_cpu_ms_per_req": round(sec / requests * 1000, 3) if requests else None
               for name, sec in cpu["cpu_s"].items()}
    share = {f"{name}_cpu_share": round(sec / cpu["wall_s"], 3) for name, sec in cpu["cpu_s"].items()}
    return {**per_req, **share, "machine_busy": round(cpu["machine_busy"], 3), "loadavg": cpu["loadavg"]}


def passes(summary: dict, p99_limit_ms: float, max_fail_ratio: float = 0.001) -> bool:
    """A load level is sustained when p99 is under the limit, (almost) nothing failed and the server kept up."""
    if summary["requests"] == 0 or summary["p99_ms"] is None:
        return False
    return (summary["p99_ms"] < p99_limit_ms and summary["failed"] <= max_fail_ratio * summary["requests"]
            and summary["achieved_rps"] >= 0.95 * summary["offered_rps"])
