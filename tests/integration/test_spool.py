"""Issue 20: nothing lost when the database is down longer than Twilio waits (the durable spool).

A PostgreSQL of our own (initdb in a temp dir, on a free port) that these tests stop and start; never the
machine's, which other tests share. Real gunicorn, Celery worker and beat, real Redis."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.support.servers import RedisServer, app_env, free_port, wait_until, web_process
from tests.support.stack import Stack, running, use_stack
from tests.support.state import settings
from tests.support.texting import new_sid
from textline.models import Conversation, Escalation, Message

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 60
TEXTS = 100
HIGH_RISK = "i have the pills in my hand and i want to kill myself tonight"


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class OwnPostgres:
    """A private PostgreSQL cluster: ours to stop and start. Run as the `postgres` user when we are root
    (initdb refuses root)."""

    def __init__(self, workdir: Path):
        self.bin = _pg_bin()
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


@pytest.fixture(scope="module")
def spooled_stack(tmp_path_factory):
    if _pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    tmp = tmp_path_factory.mktemp("spool")
    pg = OwnPostgres(tmp).init()
    redis_server = RedisServer(tmp).start()
    stack = Stack(tmp, redis_server.url, pg.url(), beat=True, REDIS_WATCH_SECONDS=1, DB_CONNECT_TIMEOUT=2,
                  METRICS_TOKEN="spool-metrics-token-0123456789")
    stack.pg = pg

    class Servers:
        def stop(self):
            redis_server.stop()
            pg.destroy()

    with running(stack, Servers()):
        yield stack


@pytest.fixture
def spooled(spooled_stack, request):
    yield from use_stack(spooled_stack, request)


def spool_dir(stack: Stack) -> Path:
    return Path(stack.tmp) / "spool"


def spool_files(stack: Stack) -> list[str]:
    folder = spool_dir(stack)
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def test_a_minute_without_postgres_loses_nothing_and_high_risk_alerts_at_once(spooled):
    stack = spooled
    stack.user("sam@example.org")
    stack.user("ada@example.org", role="supervisor")
    sam, ada = stack.console("sam@example.org"), stack.console("ada@example.org")
    stack.track(sam), stack.track(ada)
    sam.wait_for("hello"), ada.wait_for("hello")
    # One texter already has a conversation; the rest are new during the outage.
    known = "+15550120000"
    assert stack.text_in(known, "hi, before anything broke").status_code == 200

    numbers = [f"+1555012{i:04d}" for i in range(25)]  # includes `known`: some land in an open conversation
    sent: list[tuple[str, str, str]] = []
    slow: list[float] = []
    stack.pg.stop()
    down_at = time.monotonic()
    try:
        high_number = numbers[30 % len(numbers)]
        for i in range(TEXTS):
            number = numbers[i % len(numbers)]
            body = HIGH_RISK if i == 30 else f"text {i} from me"
            sid = new_sid()
            started = time.monotonic()
            r = stack.text_in(number, body, sid=sid)
            took = time.monotonic() - started
            assert r.status_code == 200, (i, r.status_code, r.text)
            slow.append(took)
            sent.append((number, body, sid))
            if i == 30:
                assert number == high_number
                notice = ada.wait_for("notice", lambda n: n["kind"] == "spooled_high_risk", timeout=2)
                assert time.monotonic() - started < 2 + took
                assert "stored in spool" in notice["text"] and number[2:] not in str(notice)
            time.sleep(0.4)  # spread over most of the outage
        assert max(slow) < 2, max(slow)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    finally:
        stack.pg.start()
    back_at = time.monotonic()
    stack.engine.dispose()

    sids = [sid for _, _, sid in sent]

    def stored() -> int:
        with stack.db() as s:
            return s.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid.in_(sids)))

    wait_until(lambda: stored() == TEXTS, timeout=60, interval=0.5, what="every spooled text in SQL")
    drained_in = time.monotonic() - back_at
    print(f"outage {OUTAGE_SECONDS}s, {TEXTS} texts, drained {drained_in:.1f}s after PostgreSQL returned")
    with stack.db() as s:
        rows = s.scalars(select(Message).where(Message.twilio_sid.in_(sids)).order_by(Message.id)).all()
        assert len({m.twilio_sid for m in rows}) == TEXTS
        for number in numbers:  # in order per conversation, each with its real arrival time
            mine = [sid for n, _, sid in sent if n == number]
            conv_rows = [m for m in rows if m.twilio_sid in mine]
            assert [m.twilio_sid for m in conv_rows] == mine
            assert len({m.conversation_id for m in conv_rows}) == 1
            times = [m.created_at for m in conv_rows]
            assert times == sorted(times)
        assert s.scalar(select(func.count()).select_from(Conversation)) == len(numbers)
        high_conv = next(m.conversation_id for m in rows if m.body == HIGH_RISK)
        assert s.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.conversation_id == high_conv, Escalation.reason == "risk")) == 1
    wait_until(lambda: spool_files(stack) == [], timeout=30, what="the spool erased once drained")
    # It reaches the consoles: every conversation is in the volunteer's queue, the newest text shown.
    queue = sam.wait_for("queue", lambda q: len(q) == len(numbers) and q[0]["risk_level"] == "high", timeout=30)
    assert queue[0]["id"] == high_conv  # the high-risk texter first
    ada.wait_for("message", lambda m: m["body"] == f"text {TEXTS - 1} from me", timeout=30)
    # The crisis text once, handed to Twilio, as for a text that had just arrived.
    with stack.db() as s:
        crisis = s.scalars(select(Message).where(Message.conversation_id == high_conv,
                                                 Message.kind == "crisis")).all()
    assert len(crisis) == 1
    wait_until(lambda: [m.body for m in stack.sent_to(high_number)].count(crisis[0].body) == 1, timeout=60,
               interval=0.5, what="the crisis text sent")


def test_a_web_process_killed_right_after_a_spooled_200_loses_nothing(spooled):
    stack = spooled
    sid = new_sid()
    stack.pg.stop()
    try:
        assert stack.text_in("+15550121111", "are you still there", sid=sid).status_code == 200
        stack.webs[0].kill()  # SIGKILL: no shutdown, no flush
        with pytest.raises(requests.ConnectionError):
            requests.get(stack.base_url + "/healthz", timeout=2)
    finally:
        stack.pg.start()
    stack.engine.dispose()
    stack.restart_web(0)

    def stored() -> int:
        with stack.db() as s:
            return s.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == sid))

    wait_until(lambda: stored() == 1, timeout=60, interval=0.5, what="the spooled text drained after restart")
    wait_until(lambda: spool_files(stack) == [], timeout=30, what="the spool erased")
