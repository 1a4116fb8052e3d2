"""Issue 7: graceful degradation, on real processes. Redis briefly down: texts are still stored and
answered 200, and the queue comes back from SQL. The database down or silent: 5xx fast, so Twilio retries."""
from __future__ import annotations

import socket

import pytest
import requests
from sqlalchemy import select

from tests.support.stack import WEB_START_SECONDS, Stack, running, use_stack
from tests.support.servers import RedisServer, app_env, free_port, wait_until, web_process
from tests.support.state import settings
from tests.support.texting import inbound_params, twilio_signature
from textline.models import Conversation, Message

pytestmark = pytest.mark.integration

TEXTER = "+15550109911"


@pytest.fixture(scope="module")
def fragile(tmp_path_factory):
    """A stack with its own Redis, so these tests can stop it without touching anyone else."""
    tmp = tmp_path_factory.mktemp("fragile")
    redis_server = RedisServer(tmp).start()
    stack = Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'fragile.sqlite3'}", beat=True,
                  REDIS_WATCH_SECONDS=1, OUTBOUND_SWEEP_AFTER_SECONDS=2)
    stack.redis_server = redis_server
    with running(stack, redis_server):
        yield stack


@pytest.fixture
def degraded(fragile, request):
    if not fragile.redis_server.proc or fragile.redis_server.proc.poll() is not None:
        fragile.redis_server.start()
    yield from use_stack(fragile, request)


def test_redis_down_texts_are_stored_and_answered_then_queued_when_it_returns(degraded):
    stack = degraded
    stack.user("sam@example.org")
    stack.redis_server.stop()
    try:
        first = stack.text_in(TEXTER, "hello? is this thing working")
        second = stack.text_in("+15550109912", "i need to talk to someone")
        assert first.status_code == 200 and second.status_code == 200  # Twilio must not lose them
        with stack.db() as s:
            convs = s.scalars(select(Conversation).order_by(Conversation.id)).all()
            assert [c.status for c in convs] == ["waiting", "waiting"]
            assert s.scalar(select(Message).where(Message.direction == "in").limit(1)).body
        ready = requests.get(stack.base_url + "/readyz", timeout=15)
        assert ready.status_code == 503 and ready.json()["checks"]["redis"] == "down"
        assert requests.get(stack.base_url + "/healthz", timeout=5).status_code == 200
    finally:
        stack.redis_server.start()  # back, and empty: as after a restart without its data

    # The web process notices Redis is back and puts the stored conversations in the queue.
    ids = [c.id for c in convs]
    wait_until(lambda: sorted(int(x) for x in stack.redis().zrange("tl:queue", 0, -1)) == ids,
               timeout=60, what="queue rebuilt from SQL")
    sam = stack.console("sam@example.org")
    stack.track(sam)
    assert sorted(c["id"] for c in sam.wait_for("hello")["queue"]) == ids
    # The welcome texts that could not be handed to Celery are sent by the outbox sweep, once each.
    wait_until(lambda: len(stack.sent_to(TEXTER)) == 1 and len(stack.sent_to("+15550109912")) == 1,
               timeout=120, interval=0.5, what="welcomes sent after the outage")
    assert requests.get(stack.base_url + "/readyz", timeout=15).status_code == 200


def test_a_worker_busy_with_a_task_when_redis_goes_away_keeps_running(degraded):
    """Redis stops while a worker is in the middle of a task (acked late, so still unacked): the worker
    reconnects when Redis returns, instead of dying of kombu's half-closed channel (workers/broker.py),
    and the text goes out once."""
    stack = degraded
    stack.user("sam@example.org")
    worker = stack.workers[0]
    stack.faults({"delay": 4})  # the welcome's send waits at "Twilio" (if it starts before Redis stops)
    before = worker.log().count("workers.outbound.send_message[")
    assert stack.text_in(TEXTER, "hi, anyone there?").status_code == 200
    wait_until(lambda: worker.log().count("workers.outbound.send_message[") > before, timeout=30,
               what="the welcome's send started")
    stack.redis_server.stop()
    try:
        wait_until(lambda: "Connection to broker lost" in worker.log(), timeout=30, what="the worker saw Redis go")
    finally:
        stack.redis_server.start()
    wait_until(lambda: len(stack.sent_to(TEXTER)) == 1, timeout=60, interval=0.5, what="the welcome sent")
    wait_until(lambda: worker.log().count("Connected to ") >= 2, timeout=60, what="the worker reconnected")
    assert worker.alive(), "the worker died when Redis went away"
    assert "Unrecoverable error" not in worker.log()
    assert len(stack.sent_to(TEXTER)) == 1


def test_a_database_that_never_answers_is_answered_fast_from_the_spool(fragile, tmp_path):
    """The database host accepts the connection and then says nothing (a hung server, a dropped route):
    the connect timeout turns that into a spooled 200 well inside Twilio's 15 s, instead of a hung
    webhook or a 5xx that Twilio would retry for 15 s at most (issue 20)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes TCP handshakes; nobody ever reads or writes
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(**settings(tmp_path, f"postgresql://textline@127.0.0.1:{silent.getsockname()[1]}/textline",
                             fragile.redis_url, base, DB_CONNECT_TIMEOUT=2))
    web = web_process("web-silent-db", port, env, tmp_path).start()
    try:
        wait_until(lambda: requests.get(base + "/healthz", timeout=2).ok, timeout=WEB_START_SECONDS, what="web up")
        params = inbound_params(fragile.account_sid, TEXTER, "are you there")
        signature = twilio_signature(fragile.auth_token, base + "/sms/inbound", params)
        r = requests.post(base + "/sms/inbound", data=params, headers={"X-Twilio-Signature": signature},
                          timeout=15)  # Twilio's own limit for a webhook
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
        spooled = [p for p in (tmp_path / "spool").iterdir() if p.name.startswith(("spool-", "batch-"))]
        assert spooled and params["MessageSid"] in "".join(p.read_text() for p in spooled)
    finally:
        web.stop()
        silent.close()
