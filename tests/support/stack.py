"""The production shape, for real: gunicorn (gevent) web processes and Celery workers as separate
processes sharing one Redis and one database; Twilio is the app's fake Twilio, over HTTP.

Nothing here creates a Flask app in the test process: the schema is made by `flask db upgrade`
(the deploy command) and the tests read the database through plain SQLAlchemy sessions.

Used by tests/integration/ and tests/browser/ (the `stack` and `live` fixtures are registered in
tests/conftest.py, so both share one running stack per test session).
"""
from __future__ import annotations

import subprocess
from contextlib import contextmanager

import pytest
import redis
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.support.servers import (
    ROOT, VENV_BIN, RedisServer, app_env, beat_process, free_port, wait_until, web_process, worker_process,
)
from tests.support.state import PASSWORD, make_user, reset_database, reset_redis, settings
from tests.support.texting import (
    ConsoleClient, fake_twilio_client, inbound_params, inject_faults, login, twilio_signature,
)
from textline.config import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, normalise_database_url

# A web process (or worker) loads and compiles the risk model before it answers: ~10 s of CPU, over 30 s of wall
# time on a loaded 2-core machine.
WEB_START_SECONDS = 120


class Stack:
    """One database, one Redis, N web processes, M Celery workers (and optionally beat)."""

    def __init__(self, tmp, redis_url: str, database_url: str, webs: int = 1, workers: int = 1,
                 beat: bool = False, **extra):
        self.tmp, self.redis_url = tmp, redis_url
        self.ports = [free_port() for _ in range(webs)]
        self.base_url = self.url(0)
        self.account_sid, self.auth_token = FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN
        defaults = {"CELERY_VISIBILITY_TIMEOUT": 4, "TWILIO_HTTP_TIMEOUT": 3,
                    "PRESENCE_TTL_SECONDS": 3, "PRESENCE_GRACE_SECONDS": 1}
        self.env = app_env(**settings(tmp, database_url, redis_url, self.base_url, **{**defaults, **extra}))
        self.engine = create_engine(normalise_database_url(database_url))
        self.webs = [web_process(f"web{i}", port, self.env, tmp) for i, port in enumerate(self.ports)]
        self.workers = [worker_process(f"worker{i}", self.env, tmp) for i in range(workers)]
        self.beat = beat_process("beat", self.env, tmp) if beat else None

    def url(self, i: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def start(self) -> "Stack":
        subprocess.run([str(VENV_BIN / "flask"), "--app", "textline.app:create_app", "db", "upgrade"],
                       env=self.env, cwd=ROOT, check=True, capture_output=True)
        for web in self.webs:
            web.start()
        for i in range(len(self.webs)):
            wait_until(lambda: requests.get(self.url(i) + "/healthz", timeout=1).ok, timeout=WEB_START_SECONDS,
                       what=f"web{i} to answer /healthz")
        for worker in self.workers:
            self.start_worker(worker)
        if self.beat:
            self.beat.start()
        return self

    def restart_web(self, i: int = 0) -> None:
        self.webs[i].stop()
        self.webs[i].start()
        wait_until(lambda: requests.get(self.url(i) + "/healthz", timeout=1).ok, timeout=WEB_START_SECONDS,
                   what=f"web{i} back")

    def run_task(self, name: str) -> None:
        """Ask the real workers to run a task now (what beat does on its schedule)."""
        from celery import Celery

        Celery(broker=self.redis_url).send_task(name)

    def start_worker(self, worker) -> None:
        before = worker.log().count(" ready.")
        worker.start()
        wait_until(lambda: worker.log().count(" ready.") > before, timeout=WEB_START_SECONDS, what=f"{worker.name} ready")

    def stop(self) -> None:
        for proc in [*self.workers, *self.webs, *([self.beat] if self.beat else [])]:
            proc.stop()
        self.engine.dispose()

    def logs(self) -> str:
        procs = [*self.webs, *self.workers, *([self.beat] if self.beat else [])]
        return "\n".join(f"----- {p.name}\n{p.log()[-8000:]}" for p in procs)

    def reset(self) -> None:
        reset_database(self.engine)
        reset_redis(self.redis_url)

    @contextmanager
    def db(self):
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, decode_responses=True)

    # --- acting as the outside world ---
    def text_in(self, number: str, body: str, sid: str | None = None, web: int = 0) -> requests.Response:
        """A texter's SMS as Twilio delivers it: signed for PUBLIC_BASE_URL, whichever process receives it."""
        params = inbound_params(self.account_sid, number, body, sid)
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, self.base_url + "/sms/inbound", params)}
        return requests.post(self.url(web) + "/sms/inbound", data=params, headers=headers, timeout=10)

    def sent_to(self, number: str):
        return fake_twilio_client(self.base_url, self.account_sid, self.auth_token).messages.list(to=number)

    def faults(self, *items) -> None:
        inject_faults(self.base_url, self.account_sid, self.auth_token, *items)

    def user(self, email: str, role: str = "volunteer", **fields) -> int:
        """An account, on shift unless told otherwise (so its console sees the queue)."""
        fields.setdefault("on_shift", True)
        with self.db() as s:
            return make_user(s, email, role, **fields).id

    def console(self, email: str, web: int = 0) -> ConsoleClient:
        session = login(self.url(web), email, PASSWORD)
        client = ConsoleClient(self.url(web), session)
        client.http = session
        return client


@contextmanager
def running(stack: Stack, *servers):
    """A started stack for a fixture; `servers` (its own Redis, PostgreSQL...) are stopped with it.
    A start that fails prints every process's log, so the reason is in the test report."""
    try:
        try:
            stack.start()
        except Exception:
            print(stack.logs())
            raise
        yield stack
    finally:
        stack.stop()
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    # A Redis of its own, not the in-process app's: the stack lives until the session ends, and its worker
    # sweeps in beat's place every second; on a shared Redis those sweeps rewrote the unit tests' keys while
    # they ran (the paging rota mirrored empty, timed-sweep markers), failing them now and then.
    redis_server = RedisServer(tmp_path_factory.mktemp("stack-redis")).start()
    with running(Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'stack.sqlite3'}"), redis_server) as s:
        yield s


def use_stack(stack: Stack, request):
    """One test's use of a long-lived stack: clean state, every worker up, consoles closed after,
    and every process's log printed if the test failed."""
    stack.reset()
    for worker in stack.workers:  # a previous test may have killed one
        if not worker.alive():
            stack.start_worker(worker)
    for i, web in enumerate(stack.webs):
        if not web.alive():
            stack.restart_web(i)
    if stack.beat and not stack.beat.alive():
        stack.beat.start()
    clients = []
    stack.track = clients.append
    yield stack
    for client in clients:
        try:
            client.close()
        except Exception:
            pass
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(stack.logs())


@pytest.fixture
def live(stack, request):
    yield from use_stack(stack, request)
