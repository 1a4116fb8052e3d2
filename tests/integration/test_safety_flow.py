"""Issue 3 end to end on the production shape: gunicorn+gevent web, a real Celery worker AND beat (the
escalation timer is a beat sweep), Redis, SQL, the fake Twilio over HTTP.

This stack runs with short timers (seconds, not minutes) and its own redis-server: its Celery worker must
never take tasks meant for the core stack's database, and Socket.IO's pub/sub is not per Redis database.
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.support.stack import Stack, running, use_stack
from tests.support.safety import ALWAYS_OPEN, CLOSED_SCHEDULE, write_hours
from tests.support.servers import RedisServer, wait_until
from textline.models import Conversation, Escalation, Message, Page

pytestmark = pytest.mark.integration

TEXTER = "+15550107001"
DANA, EVE = "+15550009001", "+15550009002"
HIGH = "i have the pills in my hand and i want to kill myself tonight"
TIMERS = {"ESCALATE_WAIT_SECONDS": 3, "ESCALATE_NO_REPLY_SECONDS": 3, "PAGE_AFTER_SECONDS": 3,
          "PAGE_REPEAT_SECONDS": 4, "PAGE_MAX_ROUNDS": 1, "ESCALATION_SWEEP_SECONDS": 1}


@pytest.fixture(scope="module")
def safety_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    redis_server = RedisServer(tmp).start()
    hours = write_hours(tmp / "hours.yaml", ALWAYS_OPEN)
    stack = Stack(tmp, redis_server.url, f"sqlite:///{tmp / 'safety.sqlite3'}", beat=True, HOURS=str(hours),
                  **TIMERS)
    stack.hours = hours
    with running(stack, redis_server):
        yield stack


@pytest.fixture
def safe(safety_stack, request):
    write_hours(safety_stack.hours, ALWAYS_OPEN)
    yield from use_stack(safety_stack, request)


def console(stack, email):
    client = stack.console(email)
    stack.track(client)
    client.wait_for("hello")
    return client


def texts_to(stack, number):
    return [m.body for m in stack.sent_to(number)]


def escalation_rows(stack, reason=None):
    with stack.db() as s:
        q = select(Escalation).order_by(Escalation.id)
        return s.scalars(q.where(Escalation.reason == reason) if reason else q).all()


def pages_for(stack, escalation_id):
    with stack.db() as s:
        return s.scalars(select(Page).where(Page.escalation_id == escalation_id).order_by(Page.seq)).all()


def page_rows_to(stack, user_id):
    with stack.db() as s:
        return s.scalars(select(Page).where(Page.user_id == user_id)).all()


def test_high_risk_text_jumps_the_queue_and_alerts_supervisors_within_2s(safe):
    safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    safe.user("sam@example.org")
    # No beat: the alert cannot come from a sweep, only from the inbound path itself.
    safe.beat.stop()
    dana, sam = console(safe, "dana@example.org"), console(safe, "sam@example.org")
    safe.text_in("+15550107101", "hi, just want to talk about school")
    safe.text_in("+15550107102", "rough week honestly")
    sam.wait_for("queue_view", lambda q: len(q) == 2)
    started = time.monotonic()
    assert safe.text_in(TEXTER, HIGH).status_code == 200
    # The bar: on every supervisor console within 2 s of the text arriving.
    alert = dana.wait_for("alert", lambda a: a["reason"] == "risk", timeout=max(0.1, 2 - (time.monotonic() - started)))
    assert alert["risk_level"] == "high" and alert["state"] == "open"
    queue = sam.wait_for("queue_view", lambda q: len(q) == 3)
    assert queue[0]["id"] == alert["conversation_id"] and queue[0]["risk_level"] == "high"
    with safe.db() as s:
        kinds = s.scalars(select(Message.kind).where(Message.conversation_id == alert["conversation_id"],
                                                     Message.direction == "out")).all()
    assert sorted(kinds) == ["crisis", "welcome"]


def test_unclaimed_conversation_escalates_after_its_timeout(safe):
    safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    dana = console(safe, "dana@example.org")
    safe.text_in(TEXTER, "hello? is this the text line")
    alert = dana.wait_for("alert", lambda a: a["reason"] == "wait", timeout=30)
    assert alert["state"] == "open" and alert["volunteer_name"] is None
    [esc] = escalation_rows(safe, "wait")
    with safe.db() as s:
        conv = s.get(Conversation, esc.conversation_id)
        assert (esc.opened_at - conv.queued_at).total_seconds() >= TIMERS["ESCALATE_WAIT_SECONDS"]


def test_unacknowledged_escalation_pages_each_advisor_on_the_rota_exactly_once(safe):
    dana_id = safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    eve_id = safe.user("eve@example.org", "admin", pager_phone=EVE)
    safe.text_in(TEXTER, HIGH)
    risk = wait_until(lambda: escalation_rows(safe, "risk"), what="risk escalation")[0]
    # Dana first, Eve PAGE_REPEAT_SECONDS later, then (PAGE_MAX_ROUNDS=1) paging stops.
    wait_until(lambda: [p.user_id for p in pages_for(safe, risk.id)] == [dana_id, eve_id], timeout=40,
               what="both advisors paged")
    wait_until(lambda: escalation_rows(safe, "risk")[0].next_page_at is None, timeout=30,
               what="paging over")
    assert [p.seq for p in pages_for(safe, risk.id)] == [0, 1]
    wait_until(lambda: all(p.status == "delivered" for p in pages_for(safe, risk.id)), what="pages delivered")
    # The wait escalation pages the same advisors on its own timer, and may write a page row in the very
    # sweep that ends the risk paging: count once every escalation has stopped paging and every page
    # row has gone out.
    wait_until(lambda: all(e.next_page_at is None for e in escalation_rows(safe)), timeout=30,
               what="all paging over")
    wait_until(lambda: all(p.status == "delivered" for user_id in (dana_id, eve_id)
                           for p in page_rows_to(safe, user_id)), what="every page delivered")
    # Exactly one SMS per page row, whatever else (the wait escalation) paged them too.
    for number, user_id in ((DANA, dana_id), (EVE, eve_id)):
        received = texts_to(safe, number)
        assert len(received) == len(page_rows_to(safe, user_id))
        assert sum("(High risk)" in body for body in received) == 1
        assert TEXTER not in "".join(received) and "pills" not in "".join(received)


def test_a_worker_and_beat_restart_in_the_middle_keeps_the_timer(safe):
    dana_id = safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    dana = console(safe, "dana@example.org")
    safe.text_in(TEXTER, "hey, anyone around?")
    safe.workers[0].kill()
    safe.beat.kill()
    time.sleep(TIMERS["ESCALATE_WAIT_SECONDS"] + 2)  # the deadline passes while nothing can sweep
    assert escalation_rows(safe) == []
    safe.beat.start()
    safe.start_worker(safe.workers[0])
    alert = dana.wait_for("alert", lambda a: a["reason"] == "wait", timeout=30)
    wait_until(lambda: len(pages_for(safe, alert["id"])) >= 1, timeout=30, what="the advisor paged")
    wait_until(lambda: texts_to(safe, DANA), what="page reached Dana's phone")
    [first] = pages_for(safe, alert["id"])[:1]
    assert first.user_id == dana_id and first.seq == 0
    wait_until(lambda: pages_for(safe, alert["id"])[0].status == "delivered", what="page delivered")
    assert len(texts_to(safe, DANA)) == len(page_rows_to(safe, dana_id))


def test_a_worker_killed_while_paging_pages_once(safe):
    dana_id = safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    safe.text_in(TEXTER, HIGH)
    wait_until(lambda: len(texts_to(safe, TEXTER)) == 2, what="welcome and crisis texts sent")
    safe.faults({"delay": 2.5})  # the next send (the page) is slow: the worker dies inside Twilio
    risk = wait_until(lambda: escalation_rows(safe, "risk"), what="risk escalation")[0]
    page = wait_until(lambda: [p for p in pages_for(safe, risk.id) if p.status == "submitting"], timeout=30,
                      what="page in flight")[0]
    safe.workers[0].kill()
    safe.start_worker(safe.workers[0])
    wait_until(lambda: pages_for(safe, risk.id)[0].status == "delivered", timeout=40, what="page delivered")
    assert page.user_id == dana_id
    received = texts_to(safe, DANA)
    assert sum("(High risk)" in body for body in received) == 1


def test_off_hours_text_gets_the_automatic_reply_and_high_risk_still_pages(safe):
    safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    write_hours(safe.hours, CLOSED_SCHEDULE)
    safe.text_in(TEXTER, "hi is anyone there")
    [reply] = wait_until(lambda: texts_to(safe, TEXTER), what="off-hours reply")
    assert "text us again" in reply and "988" in reply and "911" in reply
    with safe.db() as s:
        assert s.scalars(select(Message.body).where(Message.direction == "in")).all() == ["hi is anyone there"]
        assert s.scalars(select(Message.kind).where(Message.direction == "out")).all() == ["off_hours"]
    safe.text_in("+15550107002", HIGH)
    # Nobody is at a console off-hours: the on-call advisor is paged without waiting for an acknowledgement.
    wait_until(lambda: texts_to(safe, DANA), timeout=20, what="on-call advisor paged")
    [risk] = escalation_rows(safe, "risk")
    assert risk.next_page_at is None or risk.pages_sent >= 1
    assert escalation_rows(safe, "wait") == []  # off-hours, a wait is not an emergency


def test_stop_stops_all_outbound_even_a_reply_already_queued(safe):
    safe.user("sam@example.org")
    sam = console(safe, "sam@example.org")
    safe.text_in(TEXTER, "hi")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    wait_until(lambda: len(texts_to(safe, TEXTER)) == 1, what="welcome sent")
    safe.workers[0].kill()  # the reply below waits in the broker while the texter opts out
    queued = sam.call("reply", {"conversation_id": conv_id, "body": "hi, I'm Sam", "client_id": "r1"})
    assert queued["ok"]
    assert safe.text_in(TEXTER, "STOP").status_code == 200
    ended = sam.wait_for("conversation", lambda c: c["id"] == conv_id and c["status"] == "closed")
    assert ended["opted_out"]
    safe.start_worker(safe.workers[0])
    sam.wait_for("message_status", lambda s: s["id"] == queued["message"]["id"] and s["status"] == "refused",
                 timeout=30)
    wait_until(lambda: len(texts_to(safe, TEXTER)) == 2, what="opt-out confirmation sent")
    after_stop = texts_to(safe, TEXTER)
    assert "unsubscribed" in after_stop[0] and "hi, I'm Sam" not in after_stop
    # The texter writes again without START: it reaches a volunteer, but nothing goes back.
    safe.text_in(TEXTER, "sorry, one more thing")
    new_id = sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] != conv_id)[0]["id"]
    assert sam.call("claim", {"conversation_id": new_id})["ok"]
    again = sam.call("reply", {"conversation_id": new_id, "body": "still here", "client_id": "r2"})
    sam.wait_for("message_status", lambda s: s["id"] == again["message"]["id"] and s["status"] == "refused",
                 timeout=30)
    assert texts_to(safe, TEXTER) == after_stop


def test_supervisor_reads_whispers_takes_over_and_ends_across_processes(safe):
    safe.user("dana@example.org", "supervisor", pager_phone=DANA)
    safe.user("sam@example.org")
    dana, sam = console(safe, "dana@example.org"), console(safe, "sam@example.org")
    safe.text_in(TEXTER, "i don't feel safe at home")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    sam.call("claim", {"conversation_id": conv_id})
    assert dana.call("watch", {"conversation_id": conv_id})["ok"]
    assert dana.call("whisper", {"conversation_id": conv_id, "body": "Ask if they are safe tonight"})["ok"]
    sam.wait_for("note", lambda n: n["body"] == "Ask if they are safe tonight")
    assert dana.call("take_over", {"conversation_id": conv_id})["ok"]
    sam.wait_for("taken_over", lambda t: t["conversation_id"] == conv_id)
    sent = dana.call("reply", {"conversation_id": conv_id, "body": "Hi, I'm Dana, an adult here with Sam.",
                               "client_id": "d1"})
    dana.wait_for("message_status", lambda s: s["id"] == sent["message"]["id"] and s["status"] == "delivered",
                  timeout=20)
    assert dana.call("end", {"conversation_id": conv_id, "disposition": {"outcome": "escalated"}})["ok"]
    assert "Ask if they are safe tonight" not in texts_to(safe, TEXTER)
