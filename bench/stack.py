"""The real stack under test, started the way production and the integration tests start it: a private
Redis (append-only, as in docker-compose), SQLite or PostgreSQL migrated with `flask db upgrade`,
gunicorn web processes and a Celery worker. Process helpers come from tests/support/servers.py.
"""
from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import re

import redis
import requests
from argon2 import PasswordHasher
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench import procstat
from bench.workload import texter_number
from tests.support.servers import (
    ROOT, VENV_BIN, PostgresServer, RedisServer, app_env, beat_process, free_port, wait_until, web_process,
    worker_process,
)
from tests.support.state import settings
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, normalise_database_url
from textline.models import Conversation, Message, TexterPhone, User, utcnow

PASSWORD = "bench-password-long"
# Escalation timers for item 5 (bench/escalation.py): conversations left waiting escalate within a loaded
# step, and beat sweeps every second as in production. Silence is not timed: 200 volunteers who never
# answer would all escalate and change what the other items measure.
TIMERS = {"ESCALATE_WAIT_SECONDS": 2, "ESCALATE_NO_REPLY_SECONDS": 10**6, "ESCALATION_SWEEP_SECONDS": 1,
          "PAGE_AFTER_SECONDS": 10**6,
          # The consoles are disconnected while other parts run and the web processes restart per server
          # configuration: their volunteers keep their conversations (presence is not what is measured).
          "PRESENCE_GRACE_SECONDS": 10**6}
PENDING_OUT = ("pending", "submitting", "unconfirmed")


@dataclass(frozen=True)
class ServerConfig:
    """How gunicorn runs the web app: worker class, processes (one gunicorn per port, like one per
    container in docker-compose) and, for gthread, threads per process."""

    worker_class: str = "gevent"
    webs: int = 1
    threads: int = 256  # gthread only: a console's websocket holds a thread for as long as it is open

    @property
    def name(self) -> str:
        return f"{self.worker_class} x{self.webs}"

    def gunicorn_args(self) -> tuple[str, ...]:
        return ("--threads", str(self.threads)) if self.worker_class == "gthread" else ()


class WebGroup:
    """N gunicorn processes of one app, each on its own port."""

    def __init__(self, app: str, env: dict, log_dir: Path, ports: list[int]):
        self.app, self.env, self.log_dir, self.all_ports = app, env, log_dir, ports
        self.procs = []
        self.config: ServerConfig | None = None

    @property
    def ports(self) -> list[int]:
        return self.all_ports[:len(self.procs)]

    def url(self, i: int = 0) -> str:
        return f"http://127.0.0.1:{self.all_ports[i]}"

    def targets(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", p) for p in self.ports]

    def start(self, config: ServerConfig) -> None:
        self.stop()
        self.config = config
        for i in range(config.webs):
            name = f"{self.app.split('.')[0]}-{config.worker_class}-{i}"
            proc = web_process(name, self.all_ports[i], self.env, self.log_dir, worker_class=config.worker_class,
                               app=self.app, extra_args=config.gunicorn_args())
            self.procs.append(proc.start())
        for i in range(config.webs):
            wait_until(lambda: requests.get(self.url(i) + "/healthz", timeout=2).ok, timeout=60,
                       what=f"{self.app} web{i} to answer /healthz")
        wait_until(lambda: all(procstat.children(p.proc.pid) for p in self.procs), timeout=10,
                   what="gunicorn workers")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (gunicorn's workers, not its master)."""
        return [c for p in self.procs for c in procstat.children(p.proc.pid)]

    def rss(self) -> int:
        return sum(procstat.rss_bytes(p) for p in self.worker_pids())

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
        self.procs = []

    def logs(self) -> str:
        return "\n".join(f"----- {p.name}\n{p.log()[-4000:]}" for p in self.procs)


class BareServer:
    """The bare Flask endpoint (bench/bare_app.py) under the same gunicorn configuration."""

    def __init__(self, workdir: Path, max_webs: int = 2):
        workdir.mkdir(parents=True, exist_ok=True)
        self.web = WebGroup("bench.bare_app:app", app_env(), workdir, [free_port() for _ in range(max_webs)])

    def cpu_groups(self) -> dict[str, list[int]]:
        return {"web": self.web.worker_pids()}

    def stop(self) -> None:
        self.web.stop()


class FloorServer:
    """The floor (bench/floor_app.py) under the same gunicorn configuration, beside a running Textline stack:
    its database (one table of its own), its Redis and its settings, so the same signed bytes verify."""

    def __init__(self, stack: "BenchStack", max_webs: int = 2):
        from bench.floor_app import create_table

        create_table(stack.engine)  # before the web processes start: two of them must not race to create it
        log_dir = stack.workdir / "floor"
        log_dir.mkdir(exist_ok=True)
        self.stack = stack
        self.web = WebGroup("bench.floor_app:from_env()", stack.env, log_dir, [free_port() for _ in range(max_webs)])

    def cpu_groups(self) -> dict[str, list[int]]:
        groups = {"web": self.web.worker_pids(), "redis": [self.stack.redis_server.proc.pid]}
        if self.stack.db_kind == "postgres":
            groups["postgres"] = self.stack._postgres_backends()
        return groups

    def stop(self) -> None:
        self.web.stop()


class BenchStack:
    """Textline with its Redis, database and Celery worker; web processes restartable per server config."""

    def __init__(self, workdir: Path, db: str, pg: PostgresServer | None = None, max_webs: int = 2,
                 celery_concurrency: int = 2):
        self.workdir, self.db_kind, self.pg = workdir, db, pg
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "redis").mkdir(exist_ok=True)
        self.redis_server = RedisServer(workdir / "redis", extra_args=("--appendonly", "yes"))
        self.db_name = f"textline_bench_{workdir.name}".replace("-", "_")
        self.celery_concurrency = celery_concurrency
        self.ports = [free_port() for _ in range(max_webs)]
        self.account_sid, self.auth_token = FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN
        self.worker = self.beat = None
        self.engine = None
        self.web: WebGroup | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def signer(self) -> dict:
        """Webhooks are signed for PUBLIC_BASE_URL, whichever web process receives them (as behind a proxy)."""
        return {"auth_token": self.auth_token, "base_url": self.base_url, "host": self.base_url[7:]}

    def start(self, wait: bool = True) -> "BenchStack":
        """wait=False: return once the Celery worker and beat are launched; wait_ready() later (the web
        processes can start meanwhile: the smoke run is short of time on a busy machine)."""
        self.redis_server.start()
        if self.db_kind == "postgres":
            database_url = self.pg.create_database(self.db_name)
        else:
            database_url = f"sqlite:///{self.workdir / 'bench.sqlite3'}"
        self.env = app_env(**settings(self.workdir, database_url, self.redis_server.url, self.base_url, **TIMERS))
        self.engine = create_engine(normalise_database_url(database_url))
        subprocess.run([str(VENV_BIN / "flask"), "--app", "textline.app:create_app", "db", "upgrade"],
                       env=self.env, cwd=ROOT, check=True, capture_output=True)
        self.web = WebGroup("textline.wsgi:app", self.env, self.workdir, self.ports)
        self.worker = worker_process("worker", self.env, self.workdir, concurrency=self.celery_concurrency)
        self.worker.start()
        self.beat = beat_process("beat", self.env, self.workdir).start()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        wait_until(lambda: " ready." in self.worker.log(), timeout=90, what="Celery worker ready")

    def stop(self) -> None:
        if self.web:
            self.web.stop()
        for process in (self.worker, self.beat):
            if process:
                process.stop()
        if self.engine is not None:
            self.engine.dispose()
        if self.db_kind == "postgres" and self.pg is not None:
            try:
                self.pg.drop_database(self.db_name)
            except Exception as exc:  # leave it; the next run drops it before creating
                print(f"could not drop {self.db_name}: {exc}")
        self.redis_server.stop()

    def logs(self) -> str:
        return (self.web.logs() if self.web else "") + (f"\n----- worker\n{self.worker.log()[-4000:]}"
                                                       if self.worker else "")

    # --- what the benchmark reads -----------------------------------------------------------------
    @contextmanager
    def db(self):
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_server.url, decode_responses=True)

    def cpu_groups(self) -> dict[str, list[int]]:
        groups = {"web": self.web.worker_pids(),
                  "celery": [self.worker.proc.pid, *procstat.children(self.worker.proc.pid)],
                  "redis": [self.redis_server.proc.pid]}
        if self.db_kind == "postgres":
            groups["postgres"] = self._postgres_backends()
        return groups

    def _postgres_backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.pg.admin_url, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.db_name,)).fetchall()
        return [r[0] for r in rows]

    def conversation_ids(self, texters: list[int]) -> dict[int, int]:
        """Texter index -> id of their open conversation."""
        wanted = {texter_number(t): t for t in texters}
        with self.db() as s:
            rows = s.execute(select(TexterPhone.number, Conversation.id)
                             .join(Conversation, Conversation.texter_id == TexterPhone.texter_id)
                             .where(Conversation.status != "closed", TexterPhone.number.in_(list(wanted)))).all()
        return {wanted[number]: cid for number, cid in rows}

    def outbound_in_flight(self) -> int:
        with self.db() as s:
            return s.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "out", Message.status.in_(PENDING_OUT)))

    def add_users(self, volunteers: int, supervisors: int) -> list[str]:
        """Emails, volunteers first. One password hash for all: argon2id, as the app makes them, but with
        the lowest cost. argon2 reads its parameters from the stored hash, so signing in still goes through
        the login form and a real argon2 verification; at the app's cost each sign-in takes ~1 s of CPU on
        this machine, which is setup, not what any part measures (it was a tenth of the smoke run)."""
        hashed = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
        emails = [f"vol{i}@bench.textline" for i in range(volunteers)] + \
                 [f"sup{i}@bench.textline" for i in range(supervisors)]
        with self.db() as s:
            for i, email in enumerate(emails):
                role = "volunteer" if i < volunteers else "supervisor"
                # On shift, as volunteers taking conversations are (off shift they may not claim).
                s.add(User(email=email, display_name=email.split("@")[0], role=role, password_hash=hashed,
                           on_shift=True, shift_started_at=utcnow()))
            s.commit()
        return emails

    def login_cookies(self, emails: list[str]) -> list[str]:
        """Sign in through the login form (as a person would); the cookies work on every web process.
        Each account signs in from its own loopback address (127.0.1.N): the per-address sign-in limit
        (textline/accounts/auth.py, 30 per 10 minutes) is for people, and 200 volunteers are not one person."""
        def one(i_email):
            i, email = i_email
            session = requests.Session()
            session.mount("http://", _FromAddress(f"127.0.{1 + i // 250}.{1 + i % 250}"))
            page = session.get(self.base_url + "/login", timeout=10)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = session.post(self.base_url + "/login", data={"email": email, "password": PASSWORD,
                                                               "csrf_token": token}, timeout=10, allow_redirects=False)
            assert r.status_code == 302, f"login failed for {email}: {r.status_code}"
            return "; ".join(f"{c.name}={c.value}" for c in session.cookies)

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, enumerate(emails)))


class _FromAddress(HTTPAdapter):
    """Connections from a chosen local address (any of 127.0.0.0/8 reaches a server on 127.0.0.1)."""

    def __init__(self, address: str):
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)
