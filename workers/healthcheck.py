"""Docker health checks of the worker and beat containers (docker-compose.yml): is this process's
heartbeat in Redis fresh (textline/safety/timers.py)? Light on purpose: no app, no database.

    python -m workers.healthcheck worker   # this container's worker (celery@<hostname>)
    python -m workers.healthcheck beat

Exit 0 when fresh, 1 (with the reason) when stale, missing or Redis does not answer.
"""
from __future__ import annotations

import socket
import sys

from flask import Flask

from textline.config import load_config
from textline.safety import timers


def heartbeat_age(role: str) -> float | None:
    if role == "beat":
        return timers.beat_age()
    return timers.worker_age(f"celery@{socket.gethostname()}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("worker", "beat"):
        print("usage: python -m workers.healthcheck worker|beat", file=sys.stderr)
        return 2
    app = Flask(__name__)
    app.config.update(load_config())
    with app.app_context():
        try:
            age = heartbeat_age(argv[0])
        except Exception as exc:
            print(f"{argv[0]}: Redis did not answer ({exc.__class__.__name__})", file=sys.stderr)
            return 1
        if age is None or age > timers.stale_after():
            print(f"{argv[0]}: no heartbeat for {age if age is None else round(age)} s "
                  f"(limit {timers.stale_after():.0f} s)", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
