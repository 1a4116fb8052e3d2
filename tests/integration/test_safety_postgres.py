"""The escalation guarantees on PostgreSQL (production's database): migration 0004 applies, ON CONFLICT
DO NOTHING and the conditional updates hold when two web processes race on one conversation, and paging
goes down the rota exactly once per step."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select

from tests.support.stack import Stack, running
from tests.integration.test_safety_flow import DANA, EVE, HIGH, TIMERS, escalation_rows, pages_for, texts_to
from tests.support.safety import ALWAYS_OPEN, write_hours
from tests.support.servers import PostgresServer, RedisServer, wait_until
from textline.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

TEXTER = "+15550108001"


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety-pg")
    postgres = PostgresServer(tmp).start()
    name = f"textline_safety_{os.getpid()}"  # unique per process: two checkouts may test at once
    url = postgres.create_database(name)
    redis_server = RedisServer(tmp).start()
    hours = write_hours(tmp / "hours.yaml", ALWAYS_OPEN)
    stack = Stack(tmp, redis_server.url, url, webs=2, beat=True, HOURS=str(hours), **TIMERS)
    with running(stack, redis_server):
        yield stack
    postgres.drop_database(name)
    postgres.stop()


def test_racing_webhooks_on_postgres_raise_one_alert_and_one_crisis_text(pg_stack, request):
    s = pg_stack
    s.reset()
    try:
        dana_id = s.user("dana@example.org", "supervisor", pager_phone=DANA)
        eve_id = s.user("eve@example.org", "admin", pager_phone=EVE)
        s.text_in(TEXTER, "hi")  # the conversation exists; the next two race inside it
        go = threading.Barrier(2)

        def send(web, body):
            go.wait()
            assert s.text_in(TEXTER, body, web=web).status_code == 200

        racers = [threading.Thread(target=send, args=(0, HIGH)),
                  threading.Thread(target=send, args=(1, "i'm going to kill myself tonight, i have the pills"))]
        [t.start() for t in racers]
        [t.join() for t in racers]
        [risk] = wait_until(lambda: escalation_rows(s, "risk"), what="risk escalation")
        wait_until(lambda: [p.user_id for p in pages_for(s, risk.id)] == [dana_id, eve_id], timeout=40,
                   what="both advisors paged")
        wait_until(lambda: escalation_rows(s, "risk")[0].next_page_at is None, timeout=30, what="paging over")
        assert len(escalation_rows(s, "risk")) == 1
        with s.db() as db:
            kinds = db.scalars(select(Message.kind).where(Message.direction == "out")).all()
        assert sorted(kinds) == ["crisis", "welcome"]
        wait_until(lambda: len(texts_to(s, TEXTER)) == 2, what="welcome and crisis delivered")
        assert sum("(High risk)" in b for b in texts_to(s, DANA)) == 1
        assert sum("(High risk)" in b for b in texts_to(s, EVE)) == 1
    except Exception:
        print(s.logs())
        raise
