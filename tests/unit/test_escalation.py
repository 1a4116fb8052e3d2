"""Escalation deadlines and paging (textline/safety/escalation.py), driven by an explicit `now`.

Texts arrive as signed webhooks at the in-process app; Celery is eager, so pages cross real HTTP to the
fake Twilio and the tests read what "Twilio" received through the twilio client.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from tests.support.servers import wait_until
from tests.support.safety import CLOSED_SCHEDULE, write_hours
from tests.support.texting import fake_twilio_client, inbound_params, post_signed, wrap_up
from textline import payloads, tasks
from textline.extensions import db
from textline.models import AuditEvent, Conversation, Escalation, Message, Page, utcnow
from textline.ops.cli import create_user
from textline.safety import auto_texts, escalation, supervision
from textline.texting import conversations
from workers.escalation import sweep_escalations
from workers.outbound import sweep_outbox

TEXTER = "+15550104444"
DANA, EVE = "+15550009001", "+15550009002"
HIGH = "i have the pills in my hand and i want to kill myself tonight"
PASSWORD = "a-long-password"


@pytest.fixture
def risk_only(cfg):
    """Nobody claims the texter in these tests: keep the wait/no-reply timers out of the way."""
    cfg["ESCALATE_WAIT_SECONDS"] = cfg["ESCALATE_NO_REPLY_SECONDS"] = 10**7


@pytest.fixture
def people(app_ctx):
    """Two advisors on the rota (in id order), one adult without a pager, one deactivated, a volunteer."""
    dana = create_user("dana@example.org", "Dana", "supervisor", PASSWORD, DANA)
    create_user("noah@example.org", "Noah", "supervisor", PASSWORD)  # no pager phone: not on the rota
    gone = create_user("old@example.org", "Old", "admin", PASSWORD, "+15550009009")
    gone.active = False
    eve = create_user("eve@example.org", "Eve", "admin", PASSWORD, EVE)
    sam = create_user("sam@example.org", "Sam", "volunteer", PASSWORD)
    db.session.commit()
    return {"dana": dana, "eve": eve, "sam": sam}


def text(live_app, body, number=TEXTER):
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200, response.text
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def received(live_app, number):
    return fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)


def escalations(reason=None):
    db.session.expire_all()
    q = select(Escalation).order_by(Escalation.id)
    return db.session.scalars(q.where(Escalation.reason == reason) if reason else q).all()


def later(seconds, since=None):
    return (since or utcnow()) + timedelta(seconds=seconds)


def due(esc):
    """The deadline an alert reports (kept to the millisecond, like the episode it comes from)."""
    return datetime.fromisoformat(payloads.alert(esc)["due_at"])


def test_rota_is_active_advisors_with_a_pager_in_a_stable_order(people):
    assert [u.display_name for u in escalation.rota()] == ["Dana", "Eve"]


def test_high_risk_opens_one_escalation_and_the_crisis_text_goes_once(live_app, people):
    conv = text(live_app, HIGH)
    [esc] = escalations()
    assert (esc.reason, esc.state, esc.pages_sent) == ("risk", "open", 0)
    assert payloads.alert(esc)["due_at"] is None  # opened at once, not by a timer
    # Nobody is paged yet: supervisors get PAGE_AFTER_SECONDS to acknowledge first.
    assert esc.next_page_at == esc.opened_at + timedelta(seconds=live_app.app.config["PAGE_AFTER_SECONDS"])
    text(live_app, "and i wrote a note, i am going to kill myself")
    assert len(escalations()) == 1
    kinds = [m.kind for m in db.session.scalars(select(Message).where(Message.direction == "out"))]
    assert kinds == ["welcome", "crisis"]
    sent = [m.body for m in received(live_app, TEXTER)]
    assert sent.count(auto_texts.crisis()) == 1 and "988" in auto_texts.crisis() and "911" in auto_texts.crisis()
    assert db.session.get(Conversation, conv.id).crisis_info_sent_at is not None


def test_no_crisis_text_once_an_adult_has_joined(live_app, people):
    conv = text(live_app, "hey, rough day")
    supervision.join(conv.id, people["dana"])
    text(live_app, HIGH)
    kinds = [m.kind for m in db.session.scalars(select(Message).where(Message.direction == "out"))]
    assert kinds == ["welcome"]
    # The alert is still raised: every supervisor's board shows high risk, whoever is in the conversation.
    [esc] = escalations("risk")
    assert esc.state == "open"


def test_wait_escalates_after_its_deadline_once_and_resolves_when_claimed(live_app, people, cfg):
    conv = text(live_app, "is anyone there")
    wait = cfg["ESCALATE_WAIT_SECONDS"]
    assert escalation.sweep(later(wait - 5, conv.queued_at))["opened"] == 0
    assert escalation.sweep(later(wait + 1, conv.queued_at))["opened"] == 1
    assert escalation.sweep(later(wait + 2, conv.queued_at))["opened"] == 0  # the same event: once
    [esc] = escalations("wait")
    assert esc.state == "open"
    # Its deadline (what the benchmark measures lateness against) is the queueing plus the wait.
    assert abs(due(esc) - later(wait, conv.queued_at)) < timedelta(milliseconds=1)
    conversations.claim(conv.id, people["sam"])
    conversations.reply(conv.id, people["sam"], "hi, I'm Sam")
    escalation.sweep(later(wait + 3, conv.queued_at))
    [esc] = escalations("wait")
    assert esc.state == "resolved" and esc.next_page_at is None
    escalation.sweep(later(wait + 3600, conv.queued_at))  # long past any page deadline
    assert db.session.scalar(select(func.count()).select_from(Page)) == 0
    assert received(live_app, DANA) == []


def test_a_texter_handed_back_to_the_queue_waits_on_a_new_clock(live_app, people, cfg):
    """A conversation back in the queue (its volunteer vanished, or an adult sent it back) keeps its place
    but starts a new wait: no alert at once for a wait that has not happened, and a new alert if nobody
    claims it in time, even when its first wait had one."""
    wait = cfg["ESCALATE_WAIT_SECONDS"]
    slow, quick = text(live_app, "is anyone there"), text(live_app, "hello?", "+15550104445")
    assert escalation.sweep(later(wait + 1, slow.queued_at))["opened"] == 2  # both waited too long
    first_place = slow.queued_at
    for conv in (slow, quick):
        conversations.claim(conv.id, people["sam"])
        conversations.reply(conv.id, people["sam"], "hi, I'm Sam")
    escalation.sweep(later(wait + 2, slow.queued_at))
    assert [e.state for e in escalations("wait")] == ["resolved", "resolved"]

    back = utcnow()
    assert sorted(conversations.hand_back_all(people["sam"].id, "absent")) == sorted([slow.id, quick.id])
    db.session.expire_all()
    slow = db.session.get(Conversation, slow.id)
    assert slow.queued_at == first_place  # the front of the queue: its place is kept
    assert escalation.sweep(later(wait - 5, back))["opened"] == 0
    assert escalation.sweep(later(wait + 1, back))["opened"] == 2  # the second wait, its own event
    waits = escalations("wait")
    assert [e.state for e in waits] == ["resolved", "resolved", "open", "open"]
    assert all(abs(due(e) - later(wait, back)) < timedelta(seconds=2) for e in waits[2:])


def test_wait_does_not_escalate_while_the_line_is_closed(live_app, people, cfg, tmp_path):
    conv = text(live_app, "hello")
    cfg["HOURS"] = str(write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE))
    assert escalation.sweep(later(cfg["ESCALATE_WAIT_SECONDS"] + 60, conv.queued_at))["opened"] == 0


def test_volunteer_silence_escalates_and_each_unanswered_stretch_is_its_own_event(live_app, people, cfg):
    sam = people["sam"]
    conv = text(live_app, "hi")
    conversations.claim(conv.id, sam)
    db.session.refresh(conv)
    started = conv.awaiting_reply_since
    quiet = cfg["ESCALATE_NO_REPLY_SECONDS"]
    assert escalation.sweep(later(quiet - 5, started))["opened"] == 0
    assert escalation.sweep(later(quiet + 1, started))["opened"] == 1
    assert abs(due(escalations("no_reply")[0]) - later(quiet, started)) < timedelta(milliseconds=1)
    conversations.reply(conv.id, sam, "sorry, I'm here now")
    escalation.sweep(later(quiet + 2, started))
    [first] = escalations("no_reply")
    assert first.state == "resolved"
    text(live_app, "ok so what now")  # a new unanswered stretch starts
    db.session.refresh(conv)
    assert conv.awaiting_reply_since > started
    escalation.sweep(later(quiet + 1, conv.awaiting_reply_since))
    assert [e.state for e in escalations("no_reply")] == ["resolved", "open"]


def test_an_adult_holding_the_conversation_is_not_escalated_for_silence(live_app, people, cfg):
    conv = text(live_app, "hi")
    conversations.claim(conv.id, people["dana"])
    assert escalation.sweep(later(cfg["ESCALATE_NO_REPLY_SECONDS"] + 60))["opened"] == 0


def test_unacknowledged_escalation_pages_down_the_rota_once_per_step(live_app, people, cfg, risk_only):
    conv = text(live_app, HIGH)
    [esc] = escalations()
    after, repeat = cfg["PAGE_AFTER_SECONDS"], cfg["PAGE_REPEAT_SECONDS"]
    assert escalation.sweep(later(after - 1, esc.opened_at))["pages"] == 0
    assert escalation.sweep(later(after, esc.opened_at))["pages"] == 1
    assert escalation.sweep(later(after + 1, esc.opened_at))["pages"] == 0  # same step: no second page
    [page] = received(live_app, DANA)
    assert conv.texter.alias in page.body and f"/supervise?conversation={conv.id}" in page.body  # opens it
    assert TEXTER not in page.body and "pills" not in page.body  # never the number or the words
    assert received(live_app, EVE) == []
    assert escalation.sweep(later(after + repeat, esc.opened_at))["pages"] == 1
    assert len(received(live_app, EVE)) == 1 and len(received(live_app, DANA)) == 1
    supervision.acknowledge(esc.id, people["eve"])
    assert escalation.sweep(later(after + 50 * repeat, esc.opened_at))["pages"] == 0
    assert len(received(live_app, DANA)) == 1 and len(received(live_app, EVE)) == 1
    def pages():
        db.session.expire_all()
        return [(p.seq, p.user.display_name, p.status) for p in db.session.scalars(select(Page).order_by(Page.seq))]

    # Twilio's status callbacks reach pages as they reach texts.
    wait_until(lambda: pages() == [(0, "Dana", "delivered"), (1, "Eve", "delivered")], what="pages delivered")
    audited = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "escalation")).all()
    assert audited.count("escalation.page") == 2 and "escalation.acknowledge" in audited


def test_paging_stops_after_the_configured_passes_through_the_rota(live_app, people, cfg, risk_only):
    cfg["PAGE_MAX_ROUNDS"] = 1
    text(live_app, HIGH)
    [esc] = escalations()
    t = esc.opened_at
    for step in range(6):
        escalation.sweep(later(cfg["PAGE_AFTER_SECONDS"] + step * cfg["PAGE_REPEAT_SECONDS"], t))
    [esc] = escalations()
    assert esc.pages_sent == 2 and esc.next_page_at is None
    assert len(received(live_app, DANA)) == 1 and len(received(live_app, EVE)) == 1


def test_overlapping_sweeps_page_once(live_app, people, cfg, risk_only):
    text(live_app, HIGH)
    [esc] = escalations()
    at = later(cfg["PAGE_AFTER_SECONDS"], esc.opened_at)
    barrier, results = threading.Barrier(6), []

    def racer():
        with live_app.app.app_context():
            barrier.wait()
            results.append(escalation.sweep(at)["pages"])

    threads = [threading.Thread(target=racer) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [0, 0, 0, 0, 0, 1]
    assert len(received(live_app, DANA)) == 1 and received(live_app, EVE) == []


def test_with_nobody_on_the_rota_paging_keeps_trying_until_someone_is(live_app, app_ctx, cfg, risk_only):
    sam = create_user("sam@example.org", "Sam", "volunteer", PASSWORD)
    assert sam.id
    text(live_app, HIGH)
    [esc] = escalations()
    first = later(cfg["PAGE_AFTER_SECONDS"], esc.opened_at)
    assert escalation.sweep(first)["pages"] == 0
    [esc] = escalations()
    assert esc.next_page_at == later(cfg["PAGE_REPEAT_SECONDS"], first) and esc.pages_sent == 0
    create_user("dana@example.org", "Dana", "supervisor", PASSWORD, DANA)
    assert escalation.sweep(esc.next_page_at)["pages"] == 1
    assert len(received(live_app, DANA)) == 1


def test_off_hours_high_risk_pages_the_on_call_advisor_at_once(live_app, people, cfg, tmp_path):
    cfg["HOURS"] = str(write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE))
    text(live_app, HIGH)
    [esc] = escalations()
    assert esc.next_page_at == esc.opened_at  # nobody is at a console to acknowledge
    assert escalation.sweep()["pages"] == 1
    assert len(received(live_app, DANA)) == 1


def test_a_page_whose_answer_was_lost_is_found_not_sent_twice(live_app, people, cfg, risk_only):
    text(live_app, HIGH)
    [esc] = escalations()
    requests.post(live_app.base_url + "/fake-twilio/_control", json={"faults": [{"status": 502, "store": True}]},
                  timeout=5)
    escalation.sweep(later(cfg["PAGE_AFTER_SECONDS"], esc.opened_at))
    db.session.expire_all()  # the (eager) send task wrote through its own session
    [page] = db.session.scalars(select(Page)).all()
    got = received(live_app, DANA)
    assert len(got) == 1 and page.twilio_sid == got[0].sid and page.attempts == 1


def test_outbox_sweep_sends_a_page_whose_task_was_lost(live_app, people):
    text(live_app, HIGH)
    [esc] = escalations()
    page = Page(escalation_id=esc.id, seq=0, user_id=people["dana"].id, body="Textline alert: test",
                status="pending", created_at=utcnow() - timedelta(minutes=5))
    db.session.add(page)
    db.session.commit()
    assert sweep_outbox.delay().get() == 1
    assert [m.body for m in received(live_app, DANA)] == ["Textline alert: test"]


def test_page_to_a_deactivated_advisor_is_refused(live_app, people, cfg):
    text(live_app, HIGH)
    [esc] = escalations()
    people["dana"].active = False
    page = Page(escalation_id=esc.id, seq=0, user_id=people["dana"].id, body="x", status="pending")
    db.session.add(page)
    db.session.commit()
    tasks.send_page(page.id)
    db.session.refresh(page)
    assert (page.status, page.error_code) == ("refused", "inactive")
    assert received(live_app, DANA) == []


def test_ask_an_adult_is_one_alert_per_press_until_answered(live_app, people):
    sam = people["sam"]
    conv = text(live_app, "can i tell you something")
    conversations.claim(conv.id, sam)
    first = supervision.ask_adult(conv.id, sam)
    again = supervision.ask_adult(conv.id, sam)  # double click / second tab
    assert again.id == first.id and len(escalations("asked")) == 1
    supervision.acknowledge(first.id, people["dana"])
    third = supervision.ask_adult(conv.id, sam)
    assert third.id != first.id and [e.episode for e in escalations("asked")] == ["1", "2"]
    assert escalations("asked")[0].opened_by_id == sam.id


def test_closing_resolves_answered_alerts_but_unanswered_risk_keeps_paging(live_app, people, cfg, risk_only):
    sam = people["sam"]
    conv = text(live_app, HIGH)
    conversations.claim(conv.id, sam)
    asked = supervision.ask_adult(conv.id, sam)
    supervision.acknowledge(asked.id, people["dana"])
    conversations.end(conv.id, sam, wrap_up(), "")
    [risk] = escalations("risk")
    escalation.sweep(later(cfg["PAGE_AFTER_SECONDS"], risk.opened_at))
    states = {e.reason: e.state for e in escalations()}
    assert states == {"risk": "open", "asked": "resolved"}
    assert len(received(live_app, DANA)) == 1  # an unanswered high-risk alert still reaches an adult


def test_the_beat_task_sweeps(live_app, people, cfg):
    cfg["PAGE_AFTER_SECONDS"] = 0
    text(live_app, HIGH)
    result = sweep_escalations.delay().get()
    assert result["pages"] == 1 and len(received(live_app, DANA)) == 1
