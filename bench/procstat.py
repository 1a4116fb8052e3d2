"""CPU time and memory of processes, read from /proc (Linux): what each part of the stack costs.

CPU is counted per process (utime + stime), so the load generator, the consoles, the web workers,
Redis, Celery and PostgreSQL are charged separately even though they share the machine's cores.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used by one process so far (0 if it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError):
        return 0


def children(pid: int) -> list[int]:
    """Direct children (gunicorn's workers under its master, Celery's pool under its main process)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over all cores since boot: the whole machine, other engineers included."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


class CpuMeter:
    """CPU used by named groups of processes between start() and stop(), plus the machine's busy share."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.groups.items()}

    def start(self) -> "CpuMeter":
        self._t0, self._cpu0, self._sys0 = time.monotonic(), self._read(), system_cpu()
        return self

    def stop(self) -> dict:
        wall = time.monotonic() - self._t0
        cpu1, sys1 = self._read(), system_cpu()
        busy = (sys1[0] - self._sys0[0]) / max(1, sys1[1] - self._sys0[1])
        used = {name: cpu1[name] - self._cpu0[name] for name in self.groups}
        return {"wall_s": wall, "cpu_s": used, "machine_busy": busy, "cores": os.cpu_count(),
                "loadavg": loadavg()}


def wait_quiet(pids: list[int], below: float = 0.15, window: float = 1.0, timeout: float = 90) -> float:
    """Wait until these processes use less than `below` of a core over `window` seconds (a server still
    working through an overload backlog would skew the next measurement). Returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(window)
        if (sum(cpu_seconds(p) for p in pids) - before) / window < below:
            break
    return time.monotonic() - t0
