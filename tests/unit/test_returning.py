"""Returning texters (textline/texting/returning.py): the volunteer who claims a conversation sees the
texter's earlier wrap-ups, never earlier transcripts; a setting turns it off; retention and erasure
are respected; the alias stays the same."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.pg_app import postgres_app
from tests.support.team import on_shift
from tests.support.texting import console_opener, text_live, wrap_up
from textline.extensions import db
from textline.models import CLOSED, Conversation, Texter, utcnow
from textline.ops import retention
from textline.texting import conversations, returning

pytestmark = pytest.mark.usefixtures("app_ctx")

PASSWORD = "a-long-password"
TEXTER = "+15550108888"


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, sam="volunteer", kim="volunteer", dana="supervisor")


@pytest.fixture
def open_console(live_app):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number=TEXTER) -> Conversation:
    return text_live(live_app, body, number)


def earlier_conversation(live_app, volunteer, body, **fields) -> Conversation:
    conv = text(live_app, body)
    conversations.claim(conv.id, volunteer)
    conversations.end(conv.id, volunteer, wrap_up(**fields), "follow up about exams next week")
    return conv


def test_the_volunteer_who_claims_sees_earlier_wrap_ups_not_transcripts(live_app, team, open_console):
    first = earlier_conversation(live_app, team["sam"], "my exams are killing me (not literally)",
                                 topics=["school", "anxiety"], risk="medium", follow_up="referral")
    second = earlier_conversation(live_app, team["sam"], "fight with my mom", topics=["family"])
    now = text(live_app, "hi it's me again")
    kim = open_console("kim")
    claimed = kim.call("claim", {"conversation_id": now.id})
    assert claimed["ok"]
    history = claimed["history"]
    assert history["count"] == 2
    newest, oldest = history["conversations"]
    assert newest["id"] == second.id and oldest["id"] == first.id
    assert oldest["topics"] == ["School", "Anxiety or stress"] and oldest["risk"] == "Medium"
    assert oldest["follow_up"] == "Referral given" and oldest["note"] == "follow up about exams next week"
    assert "exams are killing me" not in str(claimed) and "fight with my mom" not in str(claimed)
    assert claimed["conversation"]["alias"] == first.texter.alias  # the same alias every time
    assert kim.call("open", {"conversation_id": now.id})["history"]["count"] == 2  # after a reload too
    refused = kim.call("open", {"conversation_id": first.id})  # the earlier transcript: adults only
    assert refused["ok"] is False and refused["code"] == "forbidden"
    dana = open_console("dana")
    assert dana.call("watch", {"conversation_id": now.id})["history"]["count"] == 2  # the dashboard lists them
    assert dana.call("watch", {"conversation_id": first.id})["messages"]  # and adults can open one


def test_a_volunteer_given_the_conversation_by_transfer_sees_the_history_too(live_app, team, open_console):
    earlier_conversation(live_app, team["sam"], "hello", topics=["bullying"])
    now = text(live_app, "back again")
    sam, kim = open_console("sam"), open_console("kim")
    assert sam.call("claim", {"conversation_id": now.id})["history"]["count"] == 1
    assert sam.call("transfer", {"conversation_id": now.id, "volunteer_id": team["kim"].id,
                                 "note": "they want to talk about bullying"})["ok"]
    passed = kim.wait_for("transferred_in")
    assert passed["history"]["conversations"][0]["topics"] == ["Bullying"]


def test_a_first_time_texter_has_no_history_and_the_setting_turns_it_off(live_app, team, cfg, open_console):
    conv = text(live_app, "hello")
    assert returning.history(conv) is None
    earlier_conversation(live_app, team["sam"], "hello", topics=["friends"])
    again = text(live_app, "back again")
    assert returning.history(again)["count"] == 1
    cfg["RETURNING_TEXTER_HISTORY"] = False
    kim = open_console("kim")
    assert kim.call("claim", {"conversation_id": again.id})["history"] is None


def test_retention_and_erasure_are_respected(live_app, team):
    old = earlier_conversation(live_app, team["sam"], "long ago", topics=["friends"])
    kept = earlier_conversation(live_app, team["sam"], "last week", topics=["school"])
    old.closed_at = utcnow() - timedelta(days=200)
    db.session.commit()
    retention.apply_retention(days=90)
    now = text(live_app, "me again")
    history = returning.history(now)
    assert history["count"] == 1 and history["conversations"][0]["id"] == kept.id  # what retention erased is gone

    retention.erase_texter(db.session.get(Texter, now.texter_id))
    fresh = text(live_app, "hello?")
    assert fresh.texter_id != now.texter_id
    assert returning.history(fresh) is None  # an erased texter has no history
    assert fresh.texter.alias == now.texter.alias  # the alias comes from the key, not the row


def test_postgres_history_reads_the_same(tmp_path):
    with postgres_app(tmp_path) as app, app.app_context():
        app.config["RETURNING_TEXTER_HISTORY"] = True
        texter = Texter(phone_hash="h" * 64, alias="Texter HHHH")
        db.session.add(texter)
        db.session.flush()
        at = utcnow() - timedelta(days=3)
        for n, topic in enumerate(["school", "family"]):
            db.session.add(Conversation(texter_id=texter.id, status=CLOSED, opened_at=at + timedelta(days=n),
                                        queued_at=at, closed_at=at + timedelta(days=n, hours=1),
                                        disposition=wrap_up(topics=[topic], risk="high", follow_up="adult"),
                                        risk_reasons=[], wrap_up_note=f"note {n}"))
        now = Conversation(texter_id=texter.id, status="waiting", opened_at=utcnow(), queued_at=utcnow(),
                           risk_reasons=[])
        db.session.add(now)
        db.session.commit()
        history = returning.history(now)
        assert history["count"] == 2 and history["first_at"].startswith(at.date().isoformat())
        assert [c["topics"] for c in history["conversations"]] == [["Family"], ["School"]]
        assert history["conversations"][0]["follow_up"] == "Adult advisor follow-up"
