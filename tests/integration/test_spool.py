"""Issue 20: nothing lost when the database is down longer than Twilio waits (the durable spool).

A PostgreSQL of our own (initdb in a temp dir, on a free port) that these tests stop and start; never the
machine's, which other tests share. Real gunicorn, Celery worker and beat, real Redis."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.support.pg_outage import METRICS_TOKEN, outage_stack, pg_bin
from tests.support.servers import app_env, free_port, wait_until, web_process
from tests.support.stack import Stack, use_stack
from tests.support.state import settings
from tests.support.texting import new_sid
from textline.models import Conversation, Escalation, Message, Page

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 60
TEXTS = 100
HIGH_RISK = "i have the pills in my hand and i want to kill myself tonight"


@pytest.fixture(scope="module")
def spooled_stack(tmp_path_factory):
    if pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    with outage_stack(tmp_path_factory.mktemp("spool")) as stack:
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

    wait_until(lambda: stored() == TEXTS, timeout=180, interval=0.5, what="every spooled text in SQL")
    drained_in = time.monotonic() - back_at
    print(f"outage {OUTAGE_SECONDS}s, {TEXTS} texts, slowest webhook {max(slow) * 1000:.0f} ms, "
          f"drained {drained_in:.1f}s after PostgreSQL returned")
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
    queue = sam.wait_for("queue_view", lambda q: len(q) == len(numbers) and q[0]["risk_level"] == "high", timeout=30)
    assert queue[0]["id"] == high_conv  # the high-risk texter first
    ada.wait_for("message", lambda m: m["body"] == f"text {TEXTS - 1} from me", timeout=30)
    # The crisis text once, handed to Twilio, as for a text that had just arrived.
    with stack.db() as s:
        crisis = s.scalars(select(Message).where(Message.conversation_id == high_conv,
                                                 Message.kind == "crisis")).all()
    assert len(crisis) == 1
    wait_until(lambda: [m.body for m in stack.sent_to(high_number)].count(crisis[0].body) == 1, timeout=60,
               interval=0.5, what="the crisis text sent")


def test_a_high_risk_text_while_postgres_is_down_pages_the_on_call_adult_once(spooled):
    """Safety does not wait for SQL: the page goes out from the rota mirrored in Redis, and the drain
    records it as the escalation's first page instead of paging again."""
    stack = spooled
    pager, number, sid = "+15550129999", "+15550123333", new_sid()
    stack.user("ada@example.org", role="supervisor", pager_phone=pager)
    wait_until(lambda: pager in (stack.redis().hget("tl:pagers:rota", "rota") or ""), timeout=30, interval=0.5,
               what="beat's escalation sweep mirrored the rota into Redis")
    stack.pg.stop()
    try:
        started = time.monotonic()
        assert stack.text_in(number, HIGH_RISK, sid=sid).status_code == 200
        wait_until(lambda: len(stack.sent_to(pager)) == 1, timeout=10, interval=0.1, what="the adult paged")
        paged_in = time.monotonic() - started
        # Twilio's retry of it and another high-risk text from the same texter page nobody again.
        assert stack.text_in(number, HIGH_RISK, sid=sid).status_code == 200
        assert stack.text_in(number, "i mean it, tonight i will kill myself").status_code == 200
        time.sleep(2)  # the web process's upkeep drain finds the database down meanwhile
    finally:
        stack.pg.start()
    back_at = time.monotonic()
    stack.engine.dispose()
    [page] = stack.sent_to(pager)
    assert number[2:] not in page.body and "kill" not in page.body

    def first_page():
        with stack.db() as s:
            return s.scalar(select(Page).where(Page.twilio_sid == page.sid))

    wait_until(lambda: first_page() is not None, timeout=120, interval=0.5, what="the page recorded in SQL")
    recorded_in = time.monotonic() - back_at
    with stack.db() as s:
        [esc] = s.scalars(select(Escalation).where(Escalation.reason == "risk")).all()
        assert (esc.pages_sent, first_page().seq) == (1, 0)
    time.sleep(12)  # two escalation sweeps (ESCALATION_SWEEP_SECONDS = 5): nothing more is sent
    assert len(stack.sent_to(pager)) == 1
    print(f"paged {paged_in * 1000:.0f} ms after the webhook with PostgreSQL down; the page recorded in SQL "
          f"{recorded_in:.1f} s after it returned; one page in all")


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

    wait_until(lambda: stored() == 1, timeout=120, interval=0.5, what="the spooled text drained after restart")
    wait_until(lambda: spool_files(stack) == [], timeout=30, what="the spool erased")


def test_the_spool_is_visible_while_postgres_is_down(spooled):
    stack = spooled
    stack.user("ada@example.org", role="supervisor")
    ada = stack.console("ada@example.org")
    stack.track(ada)
    ada.wait_for("hello")
    stack.pg.stop()
    try:
        for i in range(3):
            assert stack.text_in(f"+1555012200{i}", f"anyone there {i}").status_code == 200
            time.sleep(2)  # the web process's upkeep tries to drain every second meanwhile
        ada.wait_for("spool", lambda d: d["count"] == 3, timeout=10)  # the adults' banner
        # Once a drain found the database down, the next ones only ask it (SELECT 1) until it answers:
        # no batch file per attempt (one from the web process, at most one from beat's drain).
        assert len([p for p in spool_dir(stack).iterdir() if p.name.startswith("batch-")]) <= 2
        ready = requests.get(stack.base_url + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "down"
        assert ready.json()["spool"]["depth"] == 3 and ready.json()["spool"]["oldest_seconds"] >= 1
        metrics = requests.get(stack.base_url + "/metrics", timeout=10,
                               headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        assert "textline_spool_depth 3.0" in metrics and "textline_spool_oldest_seconds" in metrics
        folder = spool_dir(stack)  # it holds bodies and numbers: owner only, and never in a log
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in folder.iterdir() if p.is_file())
        logs = "".join(p.log() for p in [*stack.webs, *stack.workers])
        assert "anyone there" not in logs and "5550122000" not in logs
    finally:
        stack.pg.start()
    stack.engine.dispose()
    ada.wait_for("spool", lambda d: d["count"] == 0, timeout=60)
    assert requests.get(stack.base_url + "/readyz", timeout=10).json()["spool"] == {"depth": 0, "oldest_seconds": 0}


def test_a_spool_directory_that_is_not_writable_stops_the_web_process_from_starting(spooled_stack, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool directory should be")
    port = free_port()
    env = app_env(**settings(tmp_path, spooled_stack.pg.url(), spooled_stack.redis_url,
                             f"http://127.0.0.1:{port}", SPOOL_DIR=str(blocker / "spool")))
    web = web_process("web-no-spool", port, env, tmp_path).start()
    try:
        web.proc.wait(120)
    finally:
        web.stop()
    assert web.proc.returncode != 0
    assert "SPOOL_DIR" in web.log() and "not writable" in web.log()
