"""Are the safety timers running (textline/safety/timers.py): /healthz/timers, /metrics, the adults'
banner, workers standing in for beat, and the deadline a timed sweep is scheduled for. The real
processes (beat and workers killed) are in tests/integration/test_timers.py."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from tests.support.texting import inbound_params, post_signed
from tests.support.web import Browser, sign_in
from textline.extensions import db
from textline.models import Conversation, utcnow
from textline.ops.cli import create_user
from textline.redis_store import get_redis, key
from textline.safety import deadlines, escalation, timers

TOKEN = "metrics-token-for-timer-tests-0123456789"
BANNER_SHOWN = re.compile(r'id="timers-banner"(?![^>]*\bhidden\b)[^>]*>')
BANNER_HIDDEN = re.compile(r'id="timers-banner"[^>]*\bhidden\b[^>]*>')


def all_running():
    timers.beat_ticked()
    timers.swept()
    timers.worker_alive("worker0@test")


def health(live_app):
    return requests.get(live_app.base_url + "/healthz/timers", timeout=10)


def text(live_app, body="hello?", number="+15550106001") -> Conversation:
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def timer_gauges(live_app) -> dict:
    r = requests.get(live_app.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 200, r.text
    return {s.name: s.value for f in text_string_to_metric_families(r.text) for s in f.samples
            if s.name.startswith("textline_timers_")}


@pytest.fixture
def scraper(cfg):
    cfg["METRICS_TOKEN"], cfg["METRICS_ALLOW_FROM"] = TOKEN, []


def test_timers_health_needs_beat_a_recent_sweep_and_a_live_worker(live_app, app_ctx):
    # Nothing has ever run (unit tests have no beat and no worker).
    answer = health(live_app)
    assert (answer.status_code, answer.json()) == (503, {"status": "not running",
                                                         "problems": ["beat", "sweep", "workers"]})
    all_running()
    answer = health(live_app)
    assert (answer.status_code, answer.json()) == (200, {"status": "running", "problems": []})
    # beat stopped ticking longer ago than its bound: the timers are not running as they should.
    get_redis().set(timers.BEAT, time.time() - timers.stale_after() - 1)
    answer = health(live_app)
    assert (answer.status_code, answer.json()["problems"]) == (503, ["beat"])
    get_redis().set(timers.BEAT, time.time() - timers.stale_after() + 1)
    assert health(live_app).status_code == 200
    assert "redis://" not in health(live_app).text  # public: running or not, and which part, nothing else


def test_the_adults_dashboard_shows_the_timers_banner_only_while_they_are_down(live_app, app_ctx):
    create_user("dana@example.org", "Dana", "supervisor", "a-long-password")
    dana = Browser(live_app.base_url)
    sign_in(dana, "dana@example.org")
    page = dana.get("/supervise").text
    assert BANNER_SHOWN.search(page) and "Timers are not running — escalations may be late" in page
    all_running()
    assert BANNER_HIDDEN.search(dana.get("/supervise").text)


def test_metrics_export_the_timers_ages_and_the_oldest_overdue_deadline(live_app, app_ctx, scraper, cfg):
    cfg["ESCALATE_WAIT_SECONDS"] = 60
    gauges = timer_gauges(live_app)
    assert gauges["textline_timers_last_sweep_age_seconds"] == float("inf")  # never
    assert gauges["textline_timers_oldest_overdue_seconds"] == 0 and gauges["textline_timers_workers"] == 0
    conv = text(live_app)
    assert timer_gauges(live_app)["textline_timers_oldest_overdue_seconds"] == 0  # due in a minute
    db.session.execute(update(Conversation).where(Conversation.id == conv.id)
                       .values(waiting_since=utcnow() - timedelta(seconds=90)))
    db.session.commit()
    overdue = timer_gauges(live_app)["textline_timers_oldest_overdue_seconds"]
    assert 29 <= overdue <= 40
    all_running()
    escalation.sweep()  # the wait escalates: nothing is overdue any more
    gauges = timer_gauges(live_app)
    assert gauges["textline_timers_oldest_overdue_seconds"] == 0
    assert gauges["textline_timers_last_sweep_age_seconds"] < 5 and gauges["textline_timers_workers"] == 1


def test_the_next_deadline_is_what_a_sweep_is_timed_for(live_app, app_ctx, cfg):
    cfg["ESCALATE_WAIT_SECONDS"] = 60
    conv = text(live_app)
    now = utcnow()
    due = conv.waiting_since + timedelta(seconds=60)
    assert deadlines.next_for(conv) == due
    assert deadlines.earliest(now) == due == deadlines.earliest(now, after=now)
    # Once it has passed it is overdue, not next.
    assert deadlines.earliest(due + timedelta(seconds=1), after=due + timedelta(seconds=1)) is None
    assert deadlines.earliest(due + timedelta(seconds=1)) == due


def test_a_sweep_is_timed_to_the_50_ms_after_a_deadline_not_to_the_next_second(app_ctx):
    # Issue 17: escalation lateness p99 < 250 ms, so the timed sweep may not wait for the next whole second.
    second = int(time.time()) + 30
    timers.schedule(datetime.fromtimestamp(second + 0.010, timezone.utc))
    timers.schedule(datetime.fromtimestamp(second + 0.030, timezone.utc))  # the same 50 ms: one sweep for both
    timed = sorted(int(k.rsplit(":", 1)[1]) for k in get_redis().scan_iter(match=key("timers", "at", "*")))
    assert timed == [second * 1000 + 50]


def test_far_deadlines_are_hopped_to_once_a_second_not_once_a_text(app_ctx):
    """A deadline beyond half the broker's visibility timeout gets a sweep that times the next hop; texts
    asking for it within the same second share that sweep (a sweep per text would cost every webhook a task)."""
    far = utcnow() + timedelta(days=2)
    for _ in range(5):
        timers.schedule(far)
        time.sleep(0.01)
    timed = {int(k.rsplit(":", 1)[1]) // 1000 for k in get_redis().scan_iter(match=key("timers", "at", "*"))}
    assert len(timed) <= 2  # the five calls may straddle one second boundary
    assert len(list(get_redis().scan_iter(match=key("timers", "at", "*")))) == len(timed)


def test_a_worker_stands_in_for_beat_only_when_beat_or_the_sweeps_are_quiet_and_one_at_a_time(live_app, app_ctx):
    all_running()
    assert not timers.take_beats_turn()
    get_redis().set(timers.BEAT, time.time() - timers.stand_in_after() - 1)
    assert timers.take_beats_turn()
    assert not timers.take_beats_turn()  # another worker, the same interval: beat's place is taken
    get_redis().delete(timers.COVER_LOCK)
    all_running()
    get_redis().set(timers.SWEPT, time.time() - timers.stand_in_after() - 1)  # beat ticks, sweeps do not run
    assert timers.take_beats_turn()


def test_the_stated_bound_is_two_sweep_intervals_and_five_seconds(app_ctx, cfg):
    cfg["ESCALATION_SWEEP_SECONDS"] = 5
    assert (timers.stand_in_after(), timers.stale_after(), timers.lock_for(), timers.bound()) == (6.5, 8, 7, 15)


def healthcheck(live_app, role: str) -> subprocess.CompletedProcess:
    """What a container's health check runs (docker-compose.yml), against this test's Redis."""
    cfg = live_app.app.config
    env = {"PATH": "/usr/bin:/bin", "REDIS_URL": cfg["REDIS_URL"],
           "ESCALATION_SWEEP_SECONDS": str(cfg["ESCALATION_SWEEP_SECONDS"]), "SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "workers.healthcheck", role], env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_containers_health_checks_read_their_own_heartbeat(live_app, app_ctx):
    assert healthcheck(live_app, "beat").returncode == 1
    assert healthcheck(live_app, "worker").returncode == 1
    timers.beat_ticked()
    timers.worker_alive("celery@some-other-container")
    assert healthcheck(live_app, "beat").returncode == 0
    failed = healthcheck(live_app, "worker")  # another worker's heartbeat is not this one's
    assert failed.returncode == 1 and "no heartbeat" in failed.stderr
    timers.worker_alive(f"celery@{socket.gethostname()}")
    assert healthcheck(live_app, "worker").returncode == 0
    get_redis().set(timers.BEAT, time.time() - timers.stale_after() - 1)
    assert healthcheck(live_app, "beat").returncode == 1
