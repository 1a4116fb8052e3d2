"""Safety timers that no single dead process can silence: real gunicorn, two real Celery workers, real
beat, their own Redis, SQLite; processes killed with SIGKILL.

Short timers: the sweep interval S is 1 s, so a due deadline must fire within timers.bound() = 2 S + 5 s
= 7 s whatever single process died (README, "Safety").
"""
from __future__ import annotations

import re
import secrets
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.support.safety import ALWAYS_OPEN, write_hours
from tests.support.servers import RedisServer, wait_until
from tests.support.stack import Stack, running, use_stack
from tests.support.texting import login
from tests.support.state import PASSWORD
from textline.models import WAITING, Conversation, Escalation, Page, Texter, utcnow

pytestmark = pytest.mark.integration

SWEEP = 1
WAIT = 3
BOUND = 2 * SWEEP + 5  # timers.bound() for these settings
TIMERS = {"ESCALATE_WAIT_SECONDS": WAIT, "ESCALATE_NO_REPLY_SECONDS": 600, "PAGE_AFTER_SECONDS": 600,
          "PAGE_REPEAT_SECONDS": 600, "PAGE_MAX_ROUNDS": 1, "ESCALATION_SWEEP_SECONDS": SWEEP,
          "OUTBOUND_SWEEP_AFTER_SECONDS": 2}  # a page whose worker was killed mid-send goes out soon
DANA = "+15550009101"
SWEEP_LOCK = "tl:lock:escalation-sweep"
STALE = SWEEP + 3  # timers.stale_after()
METRICS_TOKEN = "timers-test-metrics-token"
BANNER_SHOWN = re.compile(r'id="timers-banner"(?![^>]*\bhidden\b)[^>]*>')
BANNER_HIDDEN = re.compile(r'id="timers-banner"[^>]*\bhidden\b[^>]*>')


@pytest.fixture(scope="module")
def timer_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timers")
    redis_server = RedisServer(tmp).start()
    hours = write_hours(tmp / "hours.yaml", ALWAYS_OPEN)
    stack = Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'timers.sqlite3'}", workers=2, beat=True,
                  HOURS=str(hours), METRICS_TOKEN=METRICS_TOKEN, **TIMERS)
    with running(stack, redis_server):
        yield stack


@pytest.fixture
def timed(timer_stack, request):
    yield from use_stack(timer_stack, request)


def waiting_since(stack, queued_at, count: int = 1) -> list[int]:
    """Conversations written straight into SQL, as if their texts came while no web process could time
    them: only a sweep can find their deadline."""
    with stack.db() as s:
        convs = []
        for _ in range(count):
            texter = Texter(phone_hash=secrets.token_hex(32), alias=f"Texter {secrets.token_hex(2).upper()}")
            convs.append(Conversation(texter=texter, status=WAITING, opened_at=queued_at, queued_at=queued_at,
                                      waiting_since=queued_at, last_inbound_at=queued_at, priority=0,
                                      risk_level="none", risk_reasons=[]))
        s.add_all(convs)
        s.commit()
        return [c.id for c in convs]


def wait_escalations(stack) -> list[Escalation]:
    with stack.db() as s:
        return s.scalars(select(Escalation).where(Escalation.reason == "wait").order_by(Escalation.id)).all()


def conversation(stack, conv_id) -> Conversation:
    with stack.db() as s:
        return s.get(Conversation, conv_id)


def lateness(stack, esc: Escalation) -> float:
    """Seconds from the wait deadline to the escalation's row."""
    return (esc.opened_at - (conversation(stack, esc.conversation_id).waiting_since + timedelta(seconds=WAIT))).total_seconds()


def worker_holding(stack, lock_value: str):
    name = lock_value.split("@", 1)[0]
    return next(w for w in stack.workers if w.name == name)


def timers_health(stack) -> requests.Response:
    return requests.get(stack.base_url + "/healthz/timers", timeout=10)


def gauges(stack) -> dict:
    text = requests.get(stack.base_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                        timeout=10).text
    return {name: float(value) for name, value in re.findall(r"^(textline_timers_\w+) (\S+)$", text, re.M)}


def test_with_beat_killed_due_waits_still_escalate_within_the_bound_once(timed):
    timed.user("dana@example.org", "supervisor", pager_phone=DANA)
    dana = timed.console("dana@example.org")
    timed.track(dana)
    dana.wait_for("hello")
    adult = login(timed.base_url, "dana@example.org", PASSWORD)
    wait_until(lambda: timers_health(timed).status_code == 200, timeout=STALE + 30, what="timers running")
    timed.beat.kill()
    # One only SQL knows of, due now: no sweep is timed for it, so the workers standing in for beat must
    # find it. Then one through the webhook, whose deadline has a sweep timed for it.
    [quiet] = waiting_since(timed, utcnow() - timedelta(seconds=WAIT))
    assert timed.text_in("+15550108001", "hello? anyone there").status_code == 200
    wait_until(lambda: len(wait_escalations(timed)) == 2, timeout=WAIT + BOUND + 5,
               what="both waits escalated with beat dead")
    late = {e.conversation_id: lateness(timed, e) for e in wait_escalations(timed)}
    print(f"deadline -> escalation with beat killed: {late}")
    assert all(0 <= s <= BOUND for s in late.values()), late
    for conv_id in late:
        dana.wait_for("alert", lambda a, c=conv_id: a["conversation_id"] == c and a["state"] == "open",
                      timeout=5)
    time.sleep(2 * SWEEP + 1)  # more sweeps run (timed ones and the workers' stand-ins): nothing twice
    assert sorted(e.conversation_id for e in wait_escalations(timed)) == sorted(late)
    opened = [d["id"] for name, d in dana.seen if name == "alert" and d["state"] == "open"]
    assert len(opened) == len(set(opened)) == 2, opened
    assert quiet in late
    assert any("sends the escalation sweep" in w.log() for w in timed.workers)  # a worker stood in for beat
    # Meanwhile the adults are told the timers are not running as they should.
    assert BANNER_SHOWN.search(adult.get(timed.base_url + "/supervise", timeout=10).text)


def test_timers_health_metrics_and_banner_go_down_with_beat_and_come_back(timed):
    timed.user("dana@example.org", "supervisor")
    adult = login(timed.base_url, "dana@example.org", PASSWORD)
    wait_until(lambda: timers_health(timed).status_code == 200, timeout=STALE + 30, what="timers running")
    assert timers_health(timed).json() == {"status": "running", "problems": []}
    assert BANNER_HIDDEN.search(adult.get(timed.base_url + "/supervise", timeout=10).text)
    up = gauges(timed)
    assert up["textline_timers_beat_age_seconds"] <= STALE and up["textline_timers_last_sweep_age_seconds"] <= STALE
    assert up["textline_timers_workers"] == 2 and up["textline_timers_oldest_overdue_seconds"] == 0

    timed.beat.stop()
    stopped = time.monotonic()
    wait_until(lambda: timers_health(timed).status_code == 503, timeout=STALE + 5,
               what="/healthz/timers to fail without beat")
    print(f"/healthz/timers failed {time.monotonic() - stopped:.1f} s after beat stopped")
    # Only beat is missing, and stays so: the workers keep the sweeps going in its place.
    for _ in range(3):
        answer = timers_health(timed)
        assert (answer.status_code, answer.json()) == (503, {"status": "not running", "problems": ["beat"]})
        time.sleep(1)
    assert BANNER_SHOWN.search(adult.get(timed.base_url + "/supervise", timeout=10).text)
    wait_until(lambda: gauges(timed)["textline_timers_beat_age_seconds"] > STALE, timeout=10, what="beat's age")
    assert gauges(timed)["textline_timers_last_sweep_age_seconds"] <= STALE

    # A deadline overdue with nothing sweeping shows in /metrics: stop the workers too.
    for worker in timed.workers:
        worker.stop()
    waiting_since(timed, utcnow() - timedelta(seconds=WAIT + 5))
    stale = wait_until(lambda: gauges(timed), timeout=10, what="metrics")
    assert stale["textline_timers_oldest_overdue_seconds"] >= 5
    assert stale["textline_timers_workers"] == 0 or timers_health(timed).status_code == 503

    timed.beat.start()
    for worker in timed.workers:
        timed.start_worker(worker)
    wait_until(lambda: timers_health(timed).status_code == 200, timeout=60, what="/healthz/timers back")
    assert BANNER_HIDDEN.search(adult.get(timed.base_url + "/supervise", timeout=10).text)
    wait_until(lambda: gauges(timed)["textline_timers_oldest_overdue_seconds"] == 0, timeout=BOUND,
               what="the overdue wait escalated")


def test_one_of_two_workers_killed_mid_sweep_misses_nothing_and_doubles_nothing(timed):
    dana_id = timed.user("dana@example.org", "supervisor", pager_phone=DANA)
    r = timed.redis()
    count = 30
    with timed.db() as s:
        assert s.scalar(select(func.count()).select_from(Escalation)) == 0
    # Already past their deadline: the next sweep opens 30 escalations (the first kill), later pages each.
    convs = waiting_since(timed, utcnow() - timedelta(seconds=WAIT + 1), count)
    before = r.get(SWEEP_LOCK)  # a sweep that started before the rows were there, if any
    killed = []
    holder = wait_until(lambda: r.get(SWEEP_LOCK) not in (None, before) and r.get(SWEEP_LOCK), timeout=BOUND + 5,
                        interval=0.005, what="a sweep running")
    victim = worker_holding(timed, holder)
    victim.kill()  # SIGKILL, holding the sweep lock, its sweep task unacknowledged
    killed.append(victim.name)
    wait_until(lambda: len(wait_escalations(timed)) == count, timeout=BOUND + 10, what="every wait escalated")
    timed.start_worker(victim)  # back before paging starts, so the second kill can find paging midway
    with timed.db() as s:
        s.execute(Escalation.__table__.update().values(next_page_at=utcnow()))  # page them all now
        s.commit()

    def paging_midway():
        value = r.get(SWEEP_LOCK)
        with timed.db() as s:
            pages = s.scalar(select(func.count()).select_from(Page))
        return value if value and 0 < pages < count else None

    try:
        holder = wait_until(paging_midway, timeout=BOUND + 10, interval=0.005, what="a sweep paging")
        victim = worker_holding(timed, holder)
        victim.kill()
        killed.append(victim.name)
    except TimeoutError:
        pass  # that sweep paged all 30 between two looks: the first kill still stands
    # Sending is the outbox's part (delivery.py): its sweep, every 15 s from beat, re-sends a killed send.
    wait_until(lambda: len(timed.sent_to(DANA)) >= count, timeout=60, what="every advisor page sent")
    time.sleep(2 * SWEEP + 1)
    with timed.db() as s:
        per_conv = dict(s.execute(select(Escalation.conversation_id, func.count()).group_by(
            Escalation.conversation_id)).all())
        pages = s.scalars(select(Page)).all()
    assert per_conv == {c: 1 for c in convs}
    assert sorted((p.escalation_id, p.seq) for p in pages) == sorted((e.id, 0) for e in wait_escalations(timed))
    assert all(p.user_id == dana_id for p in pages)
    assert len(timed.sent_to(DANA)) == count  # one SMS per page, none twice
    print(f"killed mid-sweep: {killed}")
    for worker in timed.workers:
        if not worker.alive():
            timed.start_worker(worker)
