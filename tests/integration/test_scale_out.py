"""Issue 7: the line scaled out. Two gunicorn+gevent web processes and two Celery workers share one
Redis and one PostgreSQL (real servers on this machine; the schema made by `flask db upgrade`)."""
from __future__ import annotations

import os
import time

import psycopg
import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.support.stack import Stack, running, use_stack
from tests.support.servers import PostgresServer, RedisServer, wait_until
from tests.support.texting import new_sid
from tests.support.web import Browser, sign_in
from textline.models import Base, Conversation, Message

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

METRICS_TOKEN = "scale-out-metrics-token-0123456789"
TEXTER = "+15550108811"


@pytest.fixture(scope="module")
def scale(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale")
    redis_server = RedisServer(tmp).start()  # its own: no other stack's workers may take these tasks
    postgres = PostgresServer(tmp).start()
    name = f"textline_scale_{os.getpid()}"
    stack = Stack(tmp, redis_server.url, postgres.create_database(name), webs=2, workers=2,
                  METRICS_TOKEN=METRICS_TOKEN, ESCALATE_WAIT_SECONDS=1)
    stack.pg, stack.pg_name = postgres, name
    with running(stack, redis_server):
        yield stack
    postgres.drop_database(name)
    postgres.stop()


@pytest.fixture
def two(scale, request):
    yield from use_stack(scale, request)


def outbound(stack, body=None):
    with stack.db() as s:
        q = select(Message).where(Message.direction == "out")
        return s.scalars(q.where(Message.body == body) if body else q).all()


def test_the_schema_comes_from_flask_db_upgrade_and_matches_the_models(two):
    assert two.engine.dialect.name == "postgresql"
    with two.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_volunteer_on_process_a_gets_a_text_that_arrived_on_process_b(two):
    two.user("sam@example.org")
    sam = two.console("sam@example.org", web=0)
    two.track(sam)
    sam.wait_for("hello")
    assert two.text_in(TEXTER, "hi, is this the text line?", web=1).status_code == 200
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    assert two.text_in(TEXTER, "ok good. it's about my dad", web=1).status_code == 200
    msg = sam.wait_for("message", lambda m: m["body"] == "ok good. it's about my dad")
    assert msg["conversation_id"] == conv_id


def test_a_supervisor_on_process_b_sees_an_escalation_alert_raised_by_a_worker(two):
    """Nobody claims a texter who wrote to process A: the escalation sweep, run by a Celery worker,
    raises the 'waited too long' alert; it crosses Redis to the supervisor's console on process B."""
    two.user("dana@example.org", role="supervisor")
    dana = two.console("dana@example.org", web=1)
    two.track(dana)
    dana.wait_for("hello")
    assert two.text_in(TEXTER, "is anyone there", web=0).status_code == 200

    def alerted():
        two.run_task("workers.escalation.sweep_escalations")  # what beat does every few seconds
        try:
            return dana.wait_for("alert", lambda a: a["reason"] == "wait", timeout=1)
        except TimeoutError:
            return None

    alert = wait_until(alerted, timeout=30, interval=0.5, what="wait escalation alert on process B")
    with two.db() as s:
        conv = s.scalars(select(Conversation)).one()
        assert alert["conversation_id"] == conv.id and alert["alias"] == conv.texter.alias
    assert TEXTER not in str(alert) and TEXTER[2:] not in str(alert)


def test_a_supervisor_on_process_b_is_told_when_a_worker_cannot_deliver(two):
    """The welcome text is refused by Twilio (4xx): the Celery worker that tried marks it failed and
    raises a notice; it crosses Redis to the supervisor's console on the other web process."""
    two.user("dana@example.org", role="supervisor")
    two.user("sam@example.org")
    dana, sam = two.console("dana@example.org", web=1), two.console("sam@example.org", web=1)
    two.track(dana), two.track(sam)
    dana.wait_for("hello"), sam.wait_for("hello")
    # Not 21610 (unsubscribed): that one opts the texter out and ends the conversation, like a STOP.
    two.faults({"status": 400, "code": 21211, "message": "Invalid 'To' Phone Number"})
    assert two.text_in(TEXTER, "hello?", web=0).status_code == 200
    alert = dana.wait_for("notice", lambda n: n["kind"] == "delivery_failed", timeout=30)
    with two.db() as s:
        conv = s.scalars(select(Conversation)).one()
        welcome = s.scalars(select(Message).where(Message.kind == "welcome")).one()
        alias = conv.texter.alias
    assert welcome.status == "failed" and welcome.error_code == "21211"
    assert alert["kind"] == "delivery_failed" and alert["level"] == "warning"
    assert alert["conversation_id"] == conv.id and alert["message_id"] == welcome.id
    assert alert["alias"] == alias and alias in alert["text"]
    assert TEXTER not in str(alert) and TEXTER[2:] not in str(alert)
    # Raised in a worker, not a web process. The worker writes that line after the emit, so on a busy
    # machine the console can hear the notice before the line is in the worker's log: wait for it.
    wait_until(lambda: any("notice raised" in w.log() for w in two.workers), timeout=10,
               what="the worker's 'notice raised' line")
    # Volunteers are not sent notices: a later queue change reaches Sam, the notice never did.
    two.text_in("+15550108812", "anyone?", web=0)
    sam.wait_for("queue_view", lambda q: len(q) == 2)
    assert "notice" not in [name for name, _ in sam.seen]


def test_killing_one_of_two_workers_mid_send_loses_and_duplicates_nothing(two):
    two.user("sam@example.org", capacity=4)
    sam = two.console("sam@example.org", web=0)
    two.track(sam)
    numbers = [f"+1555010{n:04d}" for n in range(4)]
    for i, number in enumerate(numbers):
        assert two.text_in(number, f"hi from texter {i}", web=i % 2).status_code == 200
    queue = sam.wait_for("queue_view", lambda q: len(q) == 4)
    wait_until(lambda: all(len(two.sent_to(n)) == 1 for n in numbers), timeout=30, what="welcomes sent")
    for conv in queue:
        assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]

    log_sizes = [len(w.log()) for w in two.workers]
    two.faults(*[{"delay": 2.5}] * 4)  # Twilio is slow: the sends will be in flight when a worker dies
    replies = {}
    for i, conv in enumerate(sorted(queue, key=lambda c: c["id"])):
        sent = sam.call("reply", {"conversation_id": conv["id"], "body": f"I'm here for you ({i})",
                                  "client_id": f"kill-{i}"})
        assert sent["ok"], sent
        replies[sent["message"]["id"]] = sent["message"]["body"]
    wait_until(lambda: sum(m.status == "submitting" for m in outbound(two) if m.id in replies) >= 2,
               timeout=30, what="sends in flight")
    busy = [w for w, size in zip(two.workers, log_sizes)
            if "workers.outbound.send_message[" in w.log()[size:]]
    assert busy, "no worker picked up a send"
    victim = busy[0]
    victim.kill()

    # The other worker takes over the killed one's tasks (acks_late) and looks before re-sending.
    wait_until(lambda: all(m.status == "delivered" for m in outbound(two) if m.id in replies),
               timeout=90, interval=0.5, what="every reply delivered after the kill")
    for number, (message_id, body) in zip(numbers, sorted(replies.items())):
        bodies = [m.body for m in two.sent_to(number)]
        assert bodies.count(body) == 1, (number, bodies)
        assert len(bodies) == 2  # the welcome and the one reply: nothing lost, nothing twice
    assert len(outbound(two)) == 8


def test_readiness_and_metrics_agree_across_processes(two):
    for i in (0, 1):
        r = requests.get(two.url(i) + "/readyz", timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["checks"] == {"redis": "ok", "database": "ok", "celery": "ok"}
    two.text_in(TEXTER, "one", web=0)
    two.text_in("+15550108813", "two", web=1)
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    for i in (0, 1):  # counters are global: either process tells the whole story
        text = requests.get(two.url(i) + "/metrics", headers=headers, timeout=10).text
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for f in text_string_to_metric_families(text) for s in f.samples}
        assert samples[("textline_webhooks_total", (("endpoint", "inbound"), ("outcome", "stored")))] == 2
        assert samples[("textline_queue_length", ())] == 2
        assert samples[("textline_metrics_database_up", ())] == 1
    assert requests.get(two.url(1) + "/metrics", timeout=10).status_code == 401


def test_database_down_is_answered_from_the_spool_and_twilios_retry_is_stored_once(two):
    """Issue 20: while PostgreSQL refuses connections the text (and Twilio's retry of it, to the other
    process) is kept in the spool and answered 200; once it is back, it is stored exactly once."""
    sid = new_sid()
    admin = two.pg.admin_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{two.pg_name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [two.pg_name])
    try:
        down = two.text_in(TEXTER, "please answer", sid=sid, web=1)
        assert down.status_code == 200
        assert two.text_in(TEXTER, "please answer", sid=sid, web=0).status_code == 200  # Twilio retried
        ready = requests.get(two.url(1) + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "down"
        assert requests.get(two.url(1) + "/healthz", timeout=10).status_code == 200  # alive all the same
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{two.pg_name}" ALLOW_CONNECTIONS true')
        two.engine.dispose()  # its pooled connections were terminated too

    def stored() -> int:
        with two.db() as s:
            return s.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == sid))

    wait_until(lambda: stored() == 1, timeout=60, interval=0.5, what="the spooled text stored")
    assert two.text_in(TEXTER, "please answer", sid=sid, web=1).status_code == 200  # a late retry
    assert stored() == 1


def test_a_transfer_moves_the_conversation_room_across_processes(two):
    """Sam's console is on process A, Alex's on B: the transfer asked on A puts Alex's socket on B in the
    conversation's room (and takes Sam's out) through Redis, so the texter's next text, arriving on B,
    reaches Alex and not Sam."""
    sam_id, alex_id = two.user("sam@example.org"), two.user("alex@example.org")
    sam, alex = two.console("sam@example.org", web=0), two.console("alex@example.org", web=1)
    two.track(sam), two.track(alex)
    sam.wait_for("hello"), alex.wait_for("hello")
    assert two.text_in(TEXTER, "can someone talk", web=1).status_code == 200
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    res = sam.call("transfer", {"conversation_id": conv_id, "volunteer_id": alex_id, "note": "School stress."})
    assert res["ok"], res
    alex.wait_for("transferred_in", lambda t: t["conversation"]["id"] == conv_id)
    assert two.text_in(TEXTER, "exams start monday", web=1).status_code == 200
    alex.wait_for("message", lambda m: m["body"] == "exams start monday")
    assert two.text_in(TEXTER, "and i haven't slept", web=0).status_code == 200
    alex.wait_for("message", lambda m: m["body"] == "and i haven't slept")
    # A later event to Sam (another texter queued) proves Sam's console was sent nothing before it.
    assert two.text_in("+15550108812", "hello", web=1).status_code == 200
    sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] != conv_id)
    assert not [m for name, m in sam.seen if name == "message" and m["body"] in ("exams start monday",
                                                                                 "and i haven't slept")]
    r = two.redis()
    assert r.smembers(f"tl:load:{sam_id}") == set() and r.smembers(f"tl:load:{alex_id}") == {str(conv_id)}


# A save compiles the lexicon (about 3 s of CPU on a quiet machine: Python's re compiling its patterns) while
# the other process compiles it too; at load 8.6 on two cores one save took over the usual 15 s.
LEXICON_COMPILE_SECONDS = 60


def test_an_admin_s_lexicon_edit_on_process_a_scores_texts_on_process_b_without_a_restart(two):
    """Issue 12: saved on A (textline/triage/lexicon_edits.py), B learns of it from Redis before its next
    text and compiles it in the background: B's texts are high from then on, nobody restarted."""
    two.user("ada@example.org", role="admin")
    assert two.text_in("+15550108900", "zorbly blarg", web=1).status_code == 200  # B has scored with the packaged one
    admin = Browser(two.url(0))
    sign_in(admin, "ada@example.org")
    form = {"category": "suicide_self_harm", "label": "zorbly blarg", "weight": "80", "phrases": "zorbly blarg"}
    saved = admin.post("/admin/lexicon", data={**form, "csrf_token": admin.csrf_token("/admin/lexicon")},
                       timeout=LEXICON_COMPILE_SECONDS)
    assert saved.status_code == 303, saved.text[:500]
    levels = []
    for n in range(120):  # a compile takes seconds on a busy machine
        assert two.text_in(f"+1555010{n + 9000:04d}", "zorbly blarg", web=1).status_code == 200
        with two.db() as s:
            levels.append(s.scalar(select(Conversation.risk_level).order_by(Conversation.id.desc())))
        if levels[-1] == "high":
            break
        time.sleep(0.5)
    assert levels[0] == "none" and levels[-1] == "high", levels
