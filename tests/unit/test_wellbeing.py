"""Volunteer wellbeing: pauses (atomic with the claim), "I need a moment", shift limits, the check-out and
its debriefs, and the adults' volunteers panel, over real WebSocket against the in-process app, with real
Redis, SQLite and (for the new tables' writes) PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from tests.support.texting import console_opener, text_live, wrap_up
from textline.extensions import db
from textline.models import ACTIVE, Base, WAITING, Conversation, DebriefTask, Escalation, ShiftCheckout, User
from textline.ops.cli import create_user
from textline.texting import queue
from textline.duty import work_list
from textline.wellbeing import checkout, pauses, tallies

PASSWORD = "a-long-password"
HIGH = "i have the pills in my hand and i want to kill myself tonight"
T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
WELLBEING_TABLES = {"shift_checkouts", "debrief_tasks"}


@pytest.fixture
def team(app_ctx):
    people = {"dana": create_user("dana@example.org", "Dana", "supervisor", PASSWORD),
              "sam": create_user("sam@example.org", "Sam", "volunteer", PASSWORD),
              "alex": create_user("alex@example.org", "Alex", "volunteer", PASSWORD)}
    for person in people.values():
        person.on_shift = True
        person.shift_started_at = datetime.now(timezone.utc)
    db.session.commit()
    return people


@pytest.fixture
def consoles(live_app, team):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number) -> Conversation:
    return text_live(live_app, body, number)


def board_row(board, name):
    return next(v for v in board["volunteers"] if v["name"] == name)


# ---- the claim's atomic step ---------------------------------------------------------------------

def test_a_paused_volunteer_cannot_claim_and_the_texter_stays_queued(app_ctx):
    queue.enqueue(7, 0, T0)
    pauses.start(42, "high_risk", minutes=5)
    assert queue.claim(7, 42, capacity=2)[0] == queue.PAUSED
    assert queue.ordered_ids() == [7] and queue.loads([42]) == {42: 0}
    assert queue.claim(7, 43, capacity=2)[0] == queue.CLAIMED  # someone else is offered it
    assert tallies.read(43)["conversations"] == 1 and tallies.read(42)["conversations"] == 0


def test_ready_to_go_on_ends_the_pause_and_the_pause_expires_by_itself(app_ctx):
    queue.enqueue(7, 0, T0)
    pauses.start(42, "moment", minutes=5)
    assert 0 < queue.get_redis().ttl(pauses.pause_key(42)) <= 300  # ends on its own after the minutes
    assert pauses.end(42) is True
    assert queue.claim(7, 42, capacity=2)[0] == queue.CLAIMED
    assert pauses.start(42, "moment", minutes=0) is None and pauses.current(42) is None  # setting 0: off


# ---- pauses after hard conversations --------------------------------------------------------------

def test_ending_a_high_risk_conversation_pauses_the_volunteer_until_they_go_on(live_app, team, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    hard = text(live_app, "hi, rough day", "+15550107001")
    assert sam.call("claim", {"conversation_id": hard.id})["ok"]
    assert sam.call("end", {"conversation_id": hard.id, "disposition": wrap_up(risk="high", follow_up="adult"), "note": ""})["ok"]
    mine = sam.wait_for("wellbeing", lambda w: w["pause"] is not None)
    assert mine["pause"]["reason"] == "high_risk" and mine["pause"]["conversation_id"] == hard.id
    board = dana.wait_for("volunteer_board", lambda b: board_row(b, "Sam")["pause"])
    assert board_row(board, "Sam")["pause"]["reason_text"] == "After a high-risk conversation"
    assert board_row(board, "Sam")["hard"] == 1 and board_row(board, "Sam")["conversations"] == 1
    nxt = text(live_app, "hello?", "+15550107002")
    refused = sam.call("claim", {"conversation_id": nxt.id})
    assert refused["code"] == "paused"
    db.session.expire_all()
    assert db.session.get(Conversation, nxt.id).status == WAITING and queue.ordered_ids() == [nxt.id]
    assert sam.call("ready_to_go_on", {})["wellbeing"]["pause"] is None
    assert sam.call("claim", {"conversation_id": nxt.id})["ok"]
    # The panel names who is struggling: the adults' room only.
    assert not any(name == "volunteer_board" for name, _ in sam.seen)
    assert sam.call("volunteer_board", {})["code"] == "forbidden"


def test_an_easy_conversation_brings_no_pause(live_app, team, consoles):
    sam = consoles("sam")
    conv = text(live_app, "hi, quick question about school", "+15550107003")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    assert sam.call("end", {"conversation_id": conv.id, "disposition": wrap_up(), "note": ""})["ok"]
    assert pauses.current(team["sam"].id) is None
    assert sam.call("wellbeing", {})["wellbeing"]["pause"] is None


def test_an_adult_taking_over_pauses_the_volunteer(live_app, team, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    conv = text(live_app, "hi", "+15550107004")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    assert dana.call("take_over", {"conversation_id": conv.id})["ok"]
    assert sam.wait_for("wellbeing", lambda w: w["pause"] is not None)["pause"]["reason"] == "taken_over"
    assert pauses.current(team["dana"].id) is None  # adults are not paused


def test_an_escalated_conversation_pauses_even_when_assessed_low(live_app, team, consoles):
    sam = consoles("sam")
    conv = text(live_app, "hi", "+15550107005")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    assert sam.call("ask_adult", {"conversation_id": conv.id})["ok"]
    assert sam.call("end", {"conversation_id": conv.id, "disposition": wrap_up(), "note": ""})["ok"]
    assert pauses.current(team["sam"].id)["reason"] == "escalation"


# ---- I need a moment ------------------------------------------------------------------------------

def test_i_need_a_moment_hands_conversations_to_the_adults_and_pauses(live_app, team, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    one, two = text(live_app, "hi", "+15550107006"), text(live_app, "hey", "+15550107007")
    assert sam.call("claim", {"conversation_id": one.id})["ok"] and sam.call("claim", {"conversation_id": two.id})["ok"]
    res = sam.call("need_moment", {"note": "this one hit close to home"})
    assert res["ok"] and sorted(res["handed"]) == [one.id, two.id] and res["wellbeing"]["pause"]["reason"] == "moment"
    notice = dana.wait_for("notice", lambda n: n["kind"] == "moment")
    assert "Sam needs a moment (2 conversations)" in notice["text"] and "close to home" in notice["text"]
    assert dana.wait_for("note", lambda n: n["kind"] == "moment" and n["conversation_id"] == one.id)
    db.session.expire_all()
    assert {e.conversation_id for e in db.session.scalars(select(Escalation).where(Escalation.reason == "asked"))} \
        == {one.id, two.id}  # persistent alerts, paged if nobody answers
    # The adult decides: one taken over, the other back to the front of the queue.
    assert dana.call("take_over", {"conversation_id": one.id})["ok"]
    assert pauses.current(team["sam"].id)["reason"] == "moment"  # the take-over does not restate the pause
    back = dana.call("hand_back", {"conversation_id": two.id})
    assert back["ok"] and back["conversation"]["status"] == WAITING
    assert sam.wait_for("conversation", lambda c: c["id"] == two.id and c["status"] == WAITING)
    assert queue.ordered_ids()[0] == two.id
    # ...and sam, pausing, is not the one who gets it back.
    assert sam.call("claim", {"conversation_id": two.id})["code"] == "paused"
    assert consoles("alex").call("claim", {"conversation_id": two.id})["ok"]
    assert dana.call("hand_back", {"conversation_id": one.id})["ok"]  # an adult's own is not refused...
    assert sam.call("hand_back", {"conversation_id": two.id})["code"] == "forbidden"  # ...a volunteer may not


# ---- shift limits ---------------------------------------------------------------------------------

def test_past_the_longest_shift_no_new_texters_but_open_ones_stay(live_app, team, consoles, cfg):
    cfg["SHIFT_MAX_MINUTES"] = 60
    sam = consoles("sam")
    held = text(live_app, "hi", "+15550107008")
    assert sam.call("claim", {"conversation_id": held.id})["ok"]
    db.session.execute(db.update(User).where(User.id == team["sam"].id)
                       .values(shift_started_at=datetime.now(timezone.utc) - timedelta(minutes=61)))
    db.session.commit()
    waiting = text(live_app, "hello", "+15550107009")
    assert sam.call("claim", {"conversation_id": waiting.id})["code"] == "shift_limit"
    assert sam.call("wellbeing", {})["wellbeing"]["past_shift_limit"] is True
    assert sam.call("reply", {"conversation_id": held.id, "body": "still here", "client_id": "k"})["ok"]
    db.session.expire_all()
    assert db.session.get(Conversation, held.id).status == ACTIVE


def test_past_the_high_risk_limit_high_risk_texters_go_to_others_first(live_app, team, consoles, cfg):
    cfg["HIGH_RISK_PER_SHIFT"] = 1
    sam = consoles("sam")
    tallies.hard_conversation(team["sam"].id, high_risk=True)
    alex = consoles("alex")  # on shift, console open, free: someone else can take it
    high = text(live_app, HIGH, "+15550107010")
    assert high.risk_level == "high"
    assert sam.call("claim", {"conversation_id": high.id})["code"] == "high_risk_limit"
    low = text(live_app, "hi", "+15550107011")
    assert sam.call("claim", {"conversation_id": low.id})["ok"]  # others still come to sam
    assert alex.call("shift", {"on": False})["ok"]  # nobody else can take it now: sam may
    assert sam.call("claim", {"conversation_id": high.id})["ok"]


# ---- check-out and debriefs -----------------------------------------------------------------------

@pytest.mark.parametrize("feeling,wants_adult,reason", [(2, False, "low_feeling"), (4, True, "asked_to_talk"),
                                                        (1, True, "both"), (3, False, None)])
def test_check_out_raises_a_debrief_on_a_low_answer_or_a_yes(live_app, team, consoles, feeling, wants_adult, reason):
    sam, dana = consoles("sam"), consoles("dana")
    res = sam.call("check_out", {"feeling": feeling, "wants_adult": wants_adult})
    assert res["ok"] and res["me"]["on_shift"] is False and res["debrief"] is (reason is not None)
    db.session.expire_all()
    row = db.session.scalar(select(ShiftCheckout))
    assert (row.user_id, row.feeling, row.wants_adult) == (team["sam"].id, feeling, wants_adult)
    assert row.shift_started_at is not None
    tasks = db.session.scalars(select(DebriefTask)).all()
    assert [t.reason for t in tasks] == ([reason] if reason else [])
    board = dana.call("volunteer_board", {})
    assert [d["reason"] for d in board["debriefs"]] == ([reason] if reason else [])
    assert "Sam" not in [v["name"] for v in board["volunteers"]]  # off shift now


def test_check_out_refuses_a_feeling_outside_1_to_5(live_app, team, consoles):
    sam = consoles("sam")
    for bad in (0, 6, "x", None):
        assert sam.call("check_out", {"feeling": bad})["code"] == "checkout"
    db.session.expire_all()
    assert db.session.get(User, team["sam"].id).on_shift is True
    assert db.session.scalar(select(ShiftCheckout)) is None


def test_an_adult_takes_and_closes_a_debrief(live_app, team, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    assert sam.call("check_out", {"feeling": 1, "wants_adult": True})["debrief"]
    task = dana.call("volunteer_board", {})["debriefs"][0]
    assert dana.call("debrief_take", {"debrief_id": task["id"]})["debrief"]["owner"] == "Dana"
    done = dana.call("debrief_done", {"debrief_id": task["id"]})["debrief"]
    assert done["done_at"] is not None
    assert dana.wait_for("volunteer_board", lambda b: b["debriefs"] == [])
    assert sam.call("debrief_done", {"debrief_id": task["id"]})["code"] == "forbidden"
    assert dana.call("debrief_done", {"debrief_id": "nope"})["code"] == "not_found"


def test_a_new_shift_starts_its_tally_from_nothing(live_app, team, consoles):
    sam = consoles("sam")
    tallies.hard_conversation(team["sam"].id, high_risk=True)
    pauses.start(team["sam"].id, "moment", minutes=5)
    assert sam.call("shift", {"on": False})["ok"] and sam.call("shift", {"on": True})["ok"]
    assert tallies.read(team["sam"].id)["hard"] == 0 and pauses.current(team["sam"].id) is None


# ---- PostgreSQL writes the new tables -------------------------------------------------------------

def test_postgres_stores_check_outs_and_debriefs(pg_app):
    with pg_app.app_context():
        sam = create_user("sam@example.org", "Sam", "volunteer", PASSWORD)
        sam.on_shift, sam.shift_started_at = True, datetime.now(timezone.utc)
        db.session.commit()
        row, task = checkout.check_out(sam, 2, True)
        db.session.expire_all()
        stored = db.session.get(DebriefTask, task.id)
        assert (stored.reason, stored.volunteer_id, stored.checkout.feeling) == ("both", sam.id, 2)
        assert stored.created_at.tzinfo is not None and stored.done_at is None
        assert db.session.get(User, sam.id).on_shift is False
        db.session.remove()
        with db.engine.connect() as conn:  # migration 0014_wellbeing builds exactly what the models say
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if WELLBEING_TABLES & set(str(d).split("'"))] == []


def test_debriefs_pauses_and_long_shifts_are_on_the_adults_work_list(live_app, team, consoles, cfg):
    """textline/wellbeing/work.py plugs into the duty work list: an adult sees whom to check on."""
    def from_list():
        return [(i.kind, i.title) for i in work_list.items()]

    with live_app.app.test_request_context():
        assert from_list() == []
    sam, alex, dana = consoles("sam"), consoles("alex"), consoles("dana")
    assert sam.call("check_out", {"feeling": 2, "wants_adult": False})["debrief"]
    assert alex.call("need_moment", {"note": "that one was hard"})["ok"]
    cfg["SHIFT_MAX_MINUTES"] = 60
    db.session.execute(db.update(User).where(User.id == team["alex"].id)
                       .values(shift_started_at=datetime.now(timezone.utc) - timedelta(minutes=90)))
    db.session.commit()
    dana.wait_for("work")  # the dashboards are told to ask again (times out otherwise)
    with live_app.app.test_request_context():
        items = from_list()
    assert items == [("shift_limit", "Alex is past the longest shift"), ("debrief", "Debrief with Sam"),
                     ("pause", "Alex is pausing")]
    assert dana.call("debrief_done", {"debrief_id": dana.call("volunteer_board", {})["debriefs"][0]["id"]})["ok"]
    with live_app.app.test_request_context():
        assert ("debrief", "Debrief with Sam") not in from_list()
