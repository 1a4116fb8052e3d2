"""A console hears a conversation only while its user may see it: whenever the holder changes (an adult
takes over, the conversation is handed back to the queue and claimed by someone else, a transfer), every
socket of the previous holder leaves its room. Over real WebSocket against the in-process app, real Redis
and SQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.team import on_shift
from tests.support.texting import console_opener, inbound_params, post_signed
from textline.extensions import db
from textline.models import Conversation
from textline.texting import conversations

PASSWORD = "a-long-password"
TEXTER = "+15550107001"


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, sam="volunteer", alex="volunteer", dana="supervisor")


@pytest.fixture
def consoles(live_app, team):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number=TEXTER) -> int:
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                       live_app.auth_token).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation.id).where(Conversation.status != "closed")
                             .order_by(Conversation.id.desc()))


def heard_nothing_more(live_app, console, conv: int, bodies: set[str], number: str) -> None:
    """Events reach a socket in order: once a later queue update has arrived, nothing of `conv` that was
    sent before it can still come."""
    other = text(live_app, "is anyone there", number)
    console.wait_for("queue_view", lambda q: other in [c["id"] for c in q])
    got = [(name, d) for name, d in console.seen if name in ("message", "note", "escalation")
           and d.get("conversation_id") == conv and d.get("body") in bodies]
    assert got == [], got


def test_after_a_take_over_the_volunteer_hears_nothing_more(live_app, team, consoles):
    sam, sam_tab2, dana = consoles("sam"), consoles("sam"), consoles("dana")
    conv = text(live_app, "hi")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert sam_tab2.call("open", {"conversation_id": conv})["ok"]  # a second tab follows it too
    assert dana.call("take_over", {"conversation_id": conv})["ok"]
    sam.wait_for("taken_over")

    text(live_app, "who is this now")
    assert dana.call("reply", {"conversation_id": conv, "body": "I'm Dana, an adult advisor.", "client_id": "d1"})["ok"]
    assert dana.call("whisper", {"conversation_id": conv, "body": "private to whoever holds it"})["ok"]
    dana.wait_for("message", lambda m: m["body"] == "who is this now")
    secret = {"who is this now", "I'm Dana, an adult advisor.", "private to whoever holds it"}
    for console in (sam, sam_tab2):
        heard_nothing_more(live_app, console, conv, secret, "+15550107002")


def test_after_a_hand_back_and_a_new_claim_the_first_volunteer_hears_nothing_more(live_app, team, consoles):
    sam, alex, dana = consoles("sam"), consoles("alex"), consoles("dana")
    conv = text(live_app, "hi")
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    # Sam's heartbeats stopped reaching us (a stalled network): the sweep hands the conversation back,
    # while Sam's socket is in fact still open.
    assert conversations.hand_back_all(team["sam"].id, "away") == [conv]
    assert alex.call("claim", {"conversation_id": conv})["ok"]

    text(live_app, "hello again")
    assert alex.call("reply", {"conversation_id": conv, "body": "Hi, I'm Alex.", "client_id": "a1"})["ok"]
    assert dana.call("whisper", {"conversation_id": conv, "body": "note for Alex"})["ok"]
    alex.wait_for("note", lambda n: n["body"] == "note for Alex")
    heard_nothing_more(live_app, sam, conv, {"hello again", "Hi, I'm Alex.", "note for Alex"}, "+15550107003")
    assert not sam.call("open", {"conversation_id": conv})["ok"]


def test_an_adult_who_took_over_and_handed_back_still_watches(live_app, team, consoles):
    """Adults may see every conversation: a change of holder never takes them out of a room."""
    dana, alex = consoles("dana"), consoles("alex")
    conv = text(live_app, "hi")
    assert dana.call("take_over", {"conversation_id": conv})["ok"]
    assert conversations.hand_back_all(team["dana"].id, "away") == [conv]
    assert alex.call("claim", {"conversation_id": conv})["ok"]
    text(live_app, "still there?")
    dana.wait_for("message", lambda m: m["body"] == "still there?" and m["conversation_id"] == conv)
