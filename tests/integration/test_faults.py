"""Faults on real processes, with real signals: a Redis that hangs (SIGSTOP: the port still accepts, nothing
answers) and a SQLite database whose write lock someone else holds. The webhook must answer within 2 s
either way (Twilio gives up at 15 s, nginx at 14 s): 200 with the text stored while Redis hangs, 503 with
Retry-After while SQLite is locked; other requests are served meanwhile; everything heals afterwards."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time

import pytest
import requests
from sqlalchemy import select

from tests.support.servers import RedisServer, wait_until
from tests.support.stack import Stack, running, use_stack
from tests.support.texting import new_sid
from textline.models import Conversation, Message

pytestmark = pytest.mark.integration

BOUND = 2.0  # seconds: the answer bound the hardening issue names
CAL = "+15550104403"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A stack with its own Redis and SQLite file, so these tests can stop and lock them."""
    tmp = tmp_path_factory.mktemp("faults")
    redis_server = RedisServer(tmp).start()
    stack = Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'faults.sqlite3'}", beat=True,
                  REDIS_WATCH_SECONDS=1, OUTBOUND_SWEEP_AFTER_SECONDS=2)
    stack.redis_server, stack.sqlite_path = redis_server, tmp / "faults.sqlite3"
    with running(stack, redis_server):
        yield stack


@pytest.fixture
def faults(faulty, request):
    os.kill(faulty.redis_server.proc.pid, signal.SIGCONT)  # whatever a failed test left behind
    yield from use_stack(faulty, request)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_held_sqlite_write_lock_gets_a_quick_503_and_other_requests_are_served(faults):
    stack = faults
    sid = new_sid()  # Twilio retries a webhook with the same MessageSid
    holder = sqlite3.connect(stack.sqlite_path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held as a long migration or a stuck writer would
    try:
        webhook = {}

        def send():
            webhook["response"], webhook["took"] = timed(lambda: stack.text_in(CAL, "hi", sid))

        sending = threading.Thread(target=send)
        sending.start()
        time.sleep(0.2)  # the webhook is now waiting for the lock
        health, health_took = timed(lambda: requests.get(stack.base_url + "/healthz", timeout=15))
        sending.join(15)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert health.status_code == 200 and health_took < BOUND, f"/healthz took {health_took:.1f} s"
    response, took = webhook["response"], webhook["took"]
    assert response.status_code == 503 and response.headers["Retry-After"], response.status_code
    assert took < BOUND, f"the 503 took {took:.1f} s"
    # Twilio's retry, once the lock is gone, is stored.
    retry, took = timed(lambda: stack.text_in(CAL, "hi", sid))
    assert retry.status_code == 200 and took < BOUND
    with stack.db() as s:
        assert s.scalars(select(Message.body).where(Message.direction == "in")).all() == ["hi"]
