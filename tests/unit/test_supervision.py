"""The supervisor dashboard and "Ask an adult": routes and Socket.IO events, allowed and refused, over real
HTTP and WebSocket against the in-process app (Celery eager)."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from tests.support.texting import console_opener, fake_twilio_client, inbound_params, login, post_signed
from textline.extensions import db
from textline.models import AuditEvent, Conversation, ConversationNote, Escalation, Message
from textline.ops.cli import create_user
from textline.redis_store import get_redis
from textline.texting import queue

TEXTER = "+15550106666"
DANA_PAGER = "+15550009001"
HIGH = "i have the pills in my hand and i want to kill myself tonight"
PASSWORD = "a-long-password"


@pytest.fixture
def team(app_ctx):
    people = {
        "dana": create_user("dana@example.org", "Dana", "supervisor", PASSWORD, DANA_PAGER),
        "eve": create_user("eve@example.org", "Eve", "admin", PASSWORD),
        "sam": create_user("sam@example.org", "Sam", "volunteer", PASSWORD),
        "alex": create_user("alex@example.org", "Alex", "volunteer", PASSWORD),
    }
    for person in people.values():
        person.on_shift = True  # everyone on this evening's shift: volunteers see the queue
    db.session.commit()
    return people


@pytest.fixture
def consoles(live_app, team):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number=TEXTER):
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def phone(live_app, number=TEXTER):
    got = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)
    return [m.body for m in reversed(got)]


def audit_actions():
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


# ---- HTTP routes --------------------------------------------------------------------------------

def test_dashboard_page_is_for_adults_only(live_app, team):
    page = login(live_app.base_url, "dana@example.org", PASSWORD).get(live_app.base_url + "/supervise", timeout=10)
    assert page.status_code == 200 and 'id="supervise"' in page.text
    assert "<script>" not in page.text and " style=" not in page.text and "onclick" not in page.text  # CSP
    volunteer = login(live_app.base_url, "sam@example.org", PASSWORD).get(live_app.base_url + "/supervise",
                                                                         timeout=10)
    assert volunteer.status_code == 403
    anonymous = requests.get(live_app.base_url + "/supervise", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_resource_directory_is_served_to_signed_in_users_only(live_app, team):
    got = login(live_app.base_url, "sam@example.org", PASSWORD).get(live_app.base_url + "/api/resources",
                                                                    timeout=10)
    assert got.status_code == 200
    ids = [r["id"] for r in got.json()["resources"]]
    assert {"988", "crisis-text-line", "911", "trevor", "childhelp", "rainn", "teenline"} <= set(ids)
    anonymous = requests.get(live_app.base_url + "/api/resources", timeout=10, allow_redirects=False)
    assert anonymous.status_code == 302


# ---- refused events -----------------------------------------------------------------------------

@pytest.mark.parametrize("event", ["supervise_snapshot", "watch", "acknowledge", "whisper", "adult_join",
                                   "take_over"])
def test_volunteers_cannot_use_supervisor_events(live_app, team, consoles, event):
    conv = text(live_app, HIGH)
    esc = db.session.scalar(select(Escalation))
    sam = consoles("sam")
    before = audit_actions()  # after Sam's sign-in, which is audited too
    answer = sam.call(event, {"conversation_id": conv.id, "escalation_id": esc.id, "body": "psst"})
    assert answer == {"ok": False, "error": "Only adult advisors can do that.", "code": "forbidden"}
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.status == "waiting" and conv.volunteer_id is None and conv.adult_joined_at is None
    assert db.session.get(Escalation, esc.id).state == "open"
    assert db.session.scalar(select(func.count()).select_from(ConversationNote)) == 0
    assert audit_actions() == before


# ---- alerts -------------------------------------------------------------------------------------

def test_high_risk_alert_reaches_every_supervisor_console_and_no_volunteer(live_app, consoles):
    dana, eve, sam = consoles("dana"), consoles("eve"), consoles("sam")
    conv = text(live_app, HIGH)
    for adult in (dana, eve):
        alert = adult.wait_for("alert", lambda a: a["conversation_id"] == conv.id)
        assert (alert["reason"], alert["state"], alert["risk_level"]) == ("risk", "open", "high")
        assert alert["alias"] == conv.texter.alias
    sam.wait_for("queue_view", lambda q: [c["id"] for c in q] == [conv.id])
    assert "alert" not in [name for name, _ in sam.seen]


def test_acknowledge_stops_paging_updates_every_supervisor_and_is_recorded(live_app, team, consoles):
    dana, eve = consoles("dana"), consoles("eve")
    text(live_app, HIGH)
    esc_id = dana.wait_for("alert")["id"]
    first = dana.call("acknowledge", {"escalation_id": esc_id})
    assert first["ok"] and first["alert"]["state"] == "acknowledged" and first["alert"]["acknowledged_by"] == "Dana"
    eve.wait_for("alert", lambda a: a["id"] == esc_id and a["acknowledged_by"] == "Dana")
    second = eve.call("acknowledge", {"escalation_id": esc_id})
    assert second["ok"] and second["alert"]["acknowledged_by"] == "Dana"  # the first adult keeps it
    esc = db.session.get(Escalation, esc_id)
    db.session.refresh(esc)
    assert esc.next_page_at is None and esc.acknowledged_by_id == team["dana"].id
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "escalation.acknowledge")).all()
    assert [(e.actor_id, e.details["first"]) for e in events] == [(team["dana"].id, True), (team["eve"].id, False)]
    assert dana.call("acknowledge", {"escalation_id": 99999})["code"] == "not_found"


def test_snapshot_shows_live_conversations_and_open_alerts_without_any_phone_number(live_app, consoles):
    dana = consoles("dana")
    waiting = text(live_app, "hello", number="+15550106001")
    risky = text(live_app, HIGH, number="+15550106002")
    ended = text(live_app, "stop", number="+15550106003")
    snap = dana.call("supervise_snapshot", {})
    assert snap["ok"]
    assert sorted(c["id"] for c in snap["conversations"]) == sorted([waiting.id, risky.id])
    assert ended.id not in [c["id"] for c in snap["conversations"]]
    assert [(a["conversation_id"], a["reason"]) for a in snap["alerts"]] == [(risky.id, "risk")]
    served = json.dumps(snap)
    for number in ("+15550106001", "5550106002", "5550106003", DANA_PAGER, "5550009001"):
        assert number not in served
    assert "dashboard.view" in audit_actions()


# ---- reading, whispering, joining, taking over --------------------------------------------------

def test_watch_reads_any_transcript_live_and_is_recorded(live_app, team, consoles):
    dana, sam = consoles("dana"), consoles("sam")
    conv = text(live_app, "hi there")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    watched = dana.call("watch", {"conversation_id": conv.id})
    assert watched["ok"] and [m["body"] for m in watched["messages"] if m["direction"] == "in"] == ["hi there"]
    text(live_app, "are you still there")
    dana.wait_for("message", lambda m: m["body"] == "are you still there")
    view = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.view"))
    assert (view.actor_id, view.target_id) == (team["dana"].id, conv.id)
    assert dana.call("watch", {"conversation_id": 424242})["code"] == "not_found"


def test_whisper_reaches_the_volunteer_and_never_the_texter(live_app, team, consoles):
    dana, sam = consoles("dana"), consoles("sam")
    conv = text(live_app, "hi")
    sam.call("claim", {"conversation_id": conv.id})
    texts_before, outbound_before = phone(live_app), outbound_count()
    sent = dana.call("whisper", {"conversation_id": conv.id, "body": "Ask about a safety plan", "client_id": "w1"})
    assert sent["ok"] and sent["note"]["author"] == "Dana"
    note = sam.wait_for("note", lambda n: n["body"] == "Ask about a safety plan")
    assert note["conversation_id"] == conv.id
    again = dana.call("whisper", {"conversation_id": conv.id, "body": "Ask about a safety plan", "client_id": "w1"})
    assert again["note"]["id"] == sent["note"]["id"]  # a re-sent whisper is stored once
    opened = sam.call("open", {"conversation_id": conv.id})
    assert [n["body"] for n in opened["notes"]] == ["Ask about a safety plan"]
    assert outbound_count() == outbound_before and phone(live_app) == texts_before
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.whisper"))
    assert "safety plan" not in json.dumps(event.details)
    assert dana.call("whisper", {"conversation_id": conv.id, "body": "   "})["code"] == "empty"


def outbound_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message).where(Message.direction == "out"))


def test_joining_marks_an_adult_in_the_conversation_and_answers_its_alerts(live_app, team, consoles):
    dana, sam = consoles("dana"), consoles("sam")
    conv = text(live_app, HIGH)
    sam.call("claim", {"conversation_id": conv.id})
    joined = dana.call("adult_join", {"conversation_id": conv.id})
    assert joined["ok"] and joined["conversation"]["adult_name"] == "Dana"
    sam.wait_for("conversation", lambda c: c["id"] == conv.id and c["adult_name"] == "Dana")
    sam.wait_for("escalation", lambda e: e["state"] == "acknowledged" and e["acknowledged_by"] == "Dana")
    assert db.session.scalar(select(Escalation)).state == "acknowledged"
    reply = dana.call("reply", {"conversation_id": conv.id, "body": "Hi, I'm Dana, an adult advisor here.",
                                "client_id": "d1"})
    assert reply["ok"] and reply["message"]["author"] == "supervisor"
    resent = dana.call("reply", {"conversation_id": conv.id, "body": "Hi, I'm Dana, an adult advisor here.",
                                 "client_id": "d1"})  # a reconnecting dashboard sends it again
    assert resent["ok"] and resent["message"]["id"] == reply["message"]["id"]
    assert phone(live_app).count("Hi, I'm Dana, an adult advisor here.") == 1
    assert {"conversation.join", "conversation.adult_reply"} <= set(audit_actions())


def test_take_over_moves_the_conversation_to_the_adult_and_tells_the_volunteer(live_app, team, consoles):
    dana, sam = consoles("dana"), consoles("sam")
    conv = text(live_app, "hi")
    sam.call("claim", {"conversation_id": conv.id})
    taken = dana.call("take_over", {"conversation_id": conv.id})
    assert taken["ok"] and taken["conversation"]["volunteer_id"] == team["dana"].id
    assert sam.wait_for("taken_over")["conversation_id"] == conv.id
    r = get_redis()
    assert r.smembers(queue.load_key(team["sam"].id)) == set()
    assert r.smembers(queue.load_key(team["dana"].id)) == {str(conv.id)}
    refused = sam.call("reply", {"conversation_id": conv.id, "body": "still me", "client_id": "s1"})
    assert refused["code"] == "forbidden"
    assert dana.call("reply", {"conversation_id": conv.id, "body": "I'm taking it from here",
                               "client_id": "d2"})["ok"]
    assert phone(live_app)[-1] == "I'm taking it from here"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.take_over"))
    assert event.details == {"volunteer_id": team["sam"].id}


def test_take_over_of_a_waiting_conversation_claims_it(live_app, team, consoles):
    dana = consoles("dana")
    conv = text(live_app, "hi")
    assert dana.call("take_over", {"conversation_id": conv.id})["conversation"]["status"] == "active"
    assert conv.id not in queue.ordered_ids()


def test_supervisor_ending_a_conversation_is_recorded(live_app, team, consoles):
    dana, sam = consoles("dana"), consoles("sam")
    conv = text(live_app, "hi")
    sam.call("claim", {"conversation_id": conv.id})
    assert dana.call("end", {"conversation_id": conv.id, "disposition": {"outcome": "escalated"}})["ok"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.end"))
    assert (event.actor_id, event.target_id, event.details) == (team["dana"].id, conv.id,
                                                                {"was_volunteer_id": team["sam"].id})
    assert dana.call("whisper", {"conversation_id": conv.id, "body": "x"})["code"] == "closed"


# ---- ask an adult -------------------------------------------------------------------------------

def test_ask_an_adult_belongs_to_the_volunteer_handling_the_conversation(live_app, team, consoles):
    dana, sam, alex = consoles("dana"), consoles("sam"), consoles("alex")
    conv = text(live_app, "i need to tell someone something")
    sam.call("claim", {"conversation_id": conv.id})
    refused = alex.call("ask_adult", {"conversation_id": conv.id})
    assert refused["code"] == "forbidden"
    assert db.session.scalar(select(func.count()).select_from(Escalation)) == 0
    asked = sam.call("ask_adult", {"conversation_id": conv.id})
    assert asked["ok"] and asked["escalation"]["state"] == "open"
    alert = dana.wait_for("alert", lambda a: a["reason"] == "asked")
    assert alert["opened_by"] == "Sam" and alert["volunteer_name"] == "Sam"
    dana.call("acknowledge", {"escalation_id": alert["id"]})
    sam.wait_for("escalation", lambda e: e["state"] == "acknowledged" and e["acknowledged_by"] == "Dana")
    assert "escalation.ask" in audit_actions()
