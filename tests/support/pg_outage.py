"""A PostgreSQL of a test's own, to stop and start (issue 20's outage tests): never the machine's, which
other tests share. initdb into a temp dir, on a free port; run as the `postgres` user when we are root
(initdb refuses root)."""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import RedisServer, free_port
from tests.support.stack import Stack, running

METRICS_TOKEN = "spool-metrics-token-0123456789"


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class OwnPostgres:
    """A private PostgreSQL cluster: ours to stop and start."""

    def __init__(self):
        self.bin = pg_bin()
        # Not under pytest's tmp dir: that is root's alone, and the server runs as `postgres`.
        self.root = Path(f"/tmp/tl-spool-pg-{os.getpid()}-{free_port()}")
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.port = free_port()

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> "OwnPostgres":
        self.sock.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres"), shutil.chown(self.sock, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self.start()

    def start(self) -> "OwnPostgres":
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w", "-o",
                  f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def outage_stack(tmp: Path):
    """A started stack (web, worker, beat) on its own Redis and its own PostgreSQL (`stack.pg`)."""
    pg = OwnPostgres().init()
    redis_server = RedisServer(tmp).start()
    stack = Stack(tmp, redis_server.url, pg.url(), beat=True, REDIS_WATCH_SECONDS=1, DB_CONNECT_TIMEOUT=2,
                  METRICS_TOKEN=METRICS_TOKEN)
    stack.pg = pg

    class Servers:
        def stop(self):
            redis_server.stop()
            pg.destroy()

    with running(stack, Servers()):
        yield stack
