"""Transferring a conversation to another on-shift volunteer, with a handover note: over real WebSocket
against the in-process app, with the real Redis load sets and SQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.support.team import on_shift
from tests.support.texting import COMPLETE_WRAP_UP, console_opener, fake_twilio_client, inbound_params, post_signed
from textline.extensions import db
from textline.models import AuditEvent, Conversation, ConversationNote
from textline.ops.cli import create_user
from textline.redis_store import get_redis
from textline.texting import queue

PASSWORD = "a-long-password"
NOTE = "Texter is worried about exams; we talked about sleep. Check in about tomorrow."


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, sam="volunteer", alex="volunteer", kim="volunteer", dana="supervisor")


@pytest.fixture
def consoles(live_app, team):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number="+15550109001") -> int:
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                       live_app.auth_token).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation.id).order_by(Conversation.id.desc()))


def phone(live_app, number="+15550109001") -> list[str]:
    got = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)
    return [m.body for m in got]


def load(user) -> set[int]:
    return {int(m) for m in get_redis().smembers(queue.load_key(user.id))}


def test_transfer_moves_the_conversation_the_note_and_access(live_app, team, consoles):
    sam, alex, dana = consoles("sam"), consoles("alex"), consoles("dana")
    consoles("kim")
    conv = text(live_app, "i can't sleep, exams tomorrow")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert sam.call("reply", {"conversation_id": conv, "body": "I'm here. What's worrying you most?"})["ok"]
    texts_before = phone(live_app)

    targets = sam.call("transfer_targets", {"conversation_id": conv})
    assert targets["ok"] and [(t["name"], t["free"]) for t in targets["targets"]] == [("Alex", 2), ("Kim", 2)]
    # Names only, never an email.
    assert set(targets["targets"][0]) == {"id", "name", "free", "capacity", "languages", "language_names"}
    assert targets["targets"][0]["languages"] == ["en"]  # shown to choose by, never a limit

    res = sam.call("transfer", {"conversation_id": conv, "volunteer_id": team["alex"].id, "note": f"  {NOTE} "})
    assert res["ok"], res
    assert res["conversation"]["volunteer_name"] == "Alex"
    assert res["note"] | {"id": None, "created_at": None} == {
        "id": None, "conversation_id": conv, "author": "Sam", "author_id": team["sam"].id, "body": NOTE,
        "created_at": None, "kind": "transfer", "author_is_adult": False, "recipient": "Alex"}

    # Sam's console is told and drops it; Alex's gets the whole transcript with the note in it.
    away = sam.wait_for("transferred_away", lambda t: t["conversation_id"] == conv)
    assert away == {"conversation_id": conv, "alias": res["conversation"]["alias"], "to": "Alex", "by": "Sam"}
    got = alex.wait_for("transferred_in", lambda t: t["conversation"]["id"] == conv)
    assert got["by"] == "Sam" and got["conversation"]["volunteer_id"] == team["alex"].id
    assert {"i can't sleep, exams tomorrow", "I'm here. What's worrying you most?"} <= {m["body"] for m in got["messages"]}
    assert [(n["kind"], n["body"], n["author"]) for n in got["notes"]] == [("transfer", NOTE, "Sam")]
    notice = dana.wait_for("notice", lambda n: n["kind"] == "transfer")
    assert notice["text"] == f"Sam passed {res['conversation']['alias']} to Alex." and notice["conversation_id"] == conv
    dana.wait_for("note", lambda n: n["kind"] == "transfer" and n["recipient"] == "Alex")

    # SQL and the Redis load sets agree: Alex holds it now, Sam does not.
    db.session.expire_all()
    assert db.session.get(Conversation, conv).volunteer_id == team["alex"].id
    assert load(team["sam"]) == set() and load(team["alex"]) == {conv}
    assert db.session.scalar(select(ConversationNote.recipient_id)) == team["alex"].id

    # Sam has lost access; Alex writes, and the message reaches Alex's room but not Sam's.
    for event, data in [("open", {}), ("reply", {"body": "still me"}), ("end", {}), ("ask_adult", {}),
                        ("transfer", {"volunteer_id": team["kim"].id, "note": "x"})]:
        refused = sam.call(event, {"conversation_id": conv, **data})
        assert not refused["ok"] and refused["code"] == "forbidden", (event, refused)
    assert alex.call("reply", {"conversation_id": conv, "body": "Hi, I'm Alex, Sam's colleague.",
                               "client_id": "a1"})["ok"]
    text(live_app, "ok thanks alex")
    alex.wait_for("message", lambda m: m["body"] == "ok thanks alex")
    dana.wait_for("message", lambda m: m["body"] == "ok thanks alex")
    other = text(live_app, "hello?", "+15550109009")  # a later event to Sam proves nothing came to Sam before it
    sam.wait_for("queue_view", lambda q: [c["id"] for c in q] == [other])
    assert not [d for name, d in sam.seen if name == "message" and d["body"] == "ok thanks alex"]
    assert alex.call("open", {"conversation_id": conv})["ok"]

    # The texter noticed nothing: the only new text is Alex's reply.
    assert sorted(phone(live_app)) == sorted(texts_before + ["Hi, I'm Alex, Sam's colleague."])
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.details).where(
        AuditEvent.action == "conversation.transfer")).all()
    assert actions == [("conversation.transfer", team["sam"].id,
                        {"from_volunteer_id": team["sam"].id, "to_volunteer_id": team["alex"].id})]


def test_transfer_refusals_are_clear_and_change_nothing(live_app, team, consoles):
    sam, alex = consoles("sam"), consoles("alex")
    mine = text(live_app, "hello", "+15550109002")
    other = text(live_app, "hi", "+15550109003")
    assert sam.call("claim", {"conversation_id": mine})["ok"]
    offshift = create_user("off@example.org", "Off", "volunteer", PASSWORD)  # never on shift
    away = team["kim"]  # on shift, but no console open
    cases = [
        (sam, mine, team["sam"].id, NOTE, "same_person", "Sam already has this conversation."),
        (sam, mine, offshift.id, NOTE, "off_shift", "Off is not on shift right now."),
        (sam, mine, away.id, NOTE, "off_shift", "Kim is not on shift right now."),
        (sam, mine, team["dana"].id, NOTE, "no_target", "Choose a volunteer to pass this conversation to."),
        (sam, mine, "nobody", NOTE, "no_target", "Choose a volunteer to pass this conversation to."),
        (sam, mine, team["alex"].id, "   ", "empty", "Write a short handover note for your colleague."),
        (sam, mine, team["alex"].id, "n" * 2001, "too_long", "That note is too long (2001 characters, 2000 at most)."),
        (alex, mine, team["alex"].id, NOTE, "forbidden", "You can only transfer a conversation you are handling."),
        (sam, other, team["alex"].id, NOTE, "forbidden", "You can only transfer a conversation you are handling."),
        (sam, "drop table", team["alex"].id, NOTE, "not_found", "That conversation does not exist."),
    ]
    for client, conv, target, note, code, message in cases:
        res = client.call("transfer", {"conversation_id": conv, "volunteer_id": target, "note": note})
        assert (res["ok"], res.get("code"), res.get("error")) == (False, code, message), (target, note)
    assert alex.call("transfer_targets", {"conversation_id": mine})["code"] == "forbidden"

    # At capacity: Alex may hold one at a time and already has one.
    team["alex"].capacity = 1
    db.session.commit()
    assert alex.call("claim", {"conversation_id": other})["ok"]
    assert sam.call("transfer_targets", {"conversation_id": mine})["targets"] == []
    res = sam.call("transfer", {"conversation_id": mine, "volunteer_id": team["alex"].id, "note": NOTE})
    assert (res["code"], res["error"]) == ("at_capacity", "Alex already has 1 conversations open.")

    # An ended conversation cannot be passed on.
    assert sam.call("end", {"conversation_id": mine, "disposition": COMPLETE_WRAP_UP})["ok"]
    assert sam.call("transfer", {"conversation_id": mine, "volunteer_id": team["alex"].id,
                                 "note": NOTE})["code"] == "closed"

    db.session.expire_all()
    assert db.session.get(Conversation, mine).volunteer_id == team["sam"].id
    assert load(team["alex"]) == {other} and load(team["sam"]) == set()
    assert db.session.scalars(select(ConversationNote)).all() == []
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.transfer")).all()


def test_an_adult_can_pass_a_volunteer_s_conversation_to_another(live_app, team, consoles):
    sam, alex, dana = consoles("sam"), consoles("alex"), consoles("dana")
    conv = text(live_app, "hey", "+15550109004")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert [t["name"] for t in dana.call("transfer_targets", {"conversation_id": conv})["targets"]] == ["Alex"]
    res = dana.call("transfer", {"conversation_id": conv, "volunteer_id": team["alex"].id,
                                 "note": "Sam's shift is ending; please take over gently."})
    assert res["ok"] and res["note"]["author_is_adult"] is True
    assert sam.wait_for("transferred_away")["by"] == "Dana"
    assert alex.wait_for("transferred_in")["by"] == "Dana"
    assert dana.wait_for("notice", lambda n: n["kind"] == "transfer")["text"].startswith("Dana passed Texter ")
    assert "from Sam to Alex." in dana.wait_for("notice", lambda n: n["kind"] == "transfer")["text"]
    assert load(team["sam"]) == set() and load(team["alex"]) == {conv}


def test_redis_reservation_is_atomic_with_capacity(app_ctx):
    """Two transfers racing for the last free place: exactly one gets it."""
    r = get_redis()
    r.sadd(queue.load_key(7), "100")
    assert queue.transfer(1, 5, 7, capacity=2) == queue.MOVED
    assert queue.transfer(2, 6, 7, capacity=2) == -1
    assert r.smembers(queue.load_key(7)) == {"100", "1"}
    assert queue.loads([7, 5]) == {7: 2, 5: 0}


def test_an_adult_who_took_over_can_hand_the_conversation_to_a_volunteer(live_app, team, consoles):
    sam, alex, dana = consoles("sam"), consoles("alex"), consoles("dana")
    conv = text(live_app, "hi", "+15550109005")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert dana.call("take_over", {"conversation_id": conv})["ok"]
    res = dana.call("transfer", {"conversation_id": conv, "volunteer_id": team["alex"].id,
                                 "note": "Safety checked: texter is safe. Please carry on."})
    assert res["ok"], res
    # Dana's console drops it from her own list but, as an adult, still reads it live.
    assert dana.wait_for("transferred_away")["to"] == "Alex"
    assert alex.wait_for("transferred_in")["by"] == "Dana"
    assert dana.call("open", {"conversation_id": conv})["ok"]
    assert load(team["dana"]) == set() and load(team["alex"]) == {conv} and load(team["sam"]) == set()
    text(live_app, "ok", "+15550109005")
    alex.wait_for("message", lambda m: m["body"] == "ok")
    dana.wait_for("message", lambda m: m["body"] == "ok")


def test_two_tabs_transferring_at_once_leave_one_holder_in_sql_and_redis(live_app, team, consoles):
    """Sam's two tabs pass the same conversation to Alex and to Kim at the same moment: exactly one
    succeeds, and the Redis load sets agree with SQL about who holds it."""
    tab1, tab2 = consoles("sam"), consoles("sam")
    consoles("alex"), consoles("kim")
    conv = text(live_app, "hi", "+15550109006")
    assert tab1.call("claim", {"conversation_id": conv})["ok"]
    answers, ids = {}, {name: team[name].id for name in ("alex", "kim")}
    go = threading.Barrier(2)

    def send(tab, name):
        go.wait()
        try:
            answers[name] = tab.call("transfer", {"conversation_id": conv, "volunteer_id": ids[name], "note": NOTE})
        except Exception as exc:
            answers[name] = repr(exc)

    threads = [threading.Thread(target=send, args=(tab1, "alex")), threading.Thread(target=send, args=(tab2, "kim"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert all(isinstance(a, dict) for a in answers.values()), answers
    assert sorted(a["ok"] for a in answers.values()) == [False, True], answers
    loser = next(a for a in answers.values() if not a["ok"])
    assert loser["code"] in ("raced", "forbidden"), loser  # mid-flight, or Sam no longer holds it
    db.session.expire_all()
    holder = db.session.get(Conversation, conv).volunteer_id
    winner = next(name for name, a in answers.items() if a["ok"])
    assert holder == team[winner].id
    assert {name: load(team[name]) for name in ("sam", "alex", "kim")} == {
        "sam": set(), "alex": {conv} if winner == "alex" else set(), "kim": {conv} if winner == "kim" else set()}
    assert len(db.session.scalars(select(ConversationNote)).all()) == 1


def test_retention_erases_handover_notes_with_the_conversation(live_app, team, consoles):
    from datetime import timedelta

    from textline.models import utcnow
    from workers.retention import apply_retention

    sam, alex = consoles("sam"), consoles("alex")
    conv = text(live_app, "my mum hits me", "+15550109007")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert sam.call("transfer", {"conversation_id": conv, "volunteer_id": team["alex"].id,
                                 "note": "Her mum hits her; she is at her aunt's tonight."})["ok"]
    assert alex.call("end", {"conversation_id": conv, "disposition": COMPLETE_WRAP_UP})["ok"]
    db.session.expire_all()
    db.session.get(Conversation, conv).closed_at = utcnow() - timedelta(days=120)
    db.session.commit()
    assert apply_retention.delay().get()["conversations_erased"] == 1
    db.session.expire_all()
    assert [(n.kind, n.body) for n in db.session.scalars(select(ConversationNote))] == [("transfer", None)]
