"""A volunteer's or adult's reply: its idempotency key (client_id) and the reasons a reply is refused. Over
real WebSocket against the in-process app, real Redis and SQL; the key's uniqueness also on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.support.pg_app import postgres_app
from tests.support.team import on_shift
from tests.support.texting import console_opener, fake_twilio_client, inbound_params, post_signed
from textline.extensions import db
from textline.models import Conversation, ConversationNote, Message, Texter
from textline.ops.cli import create_user

PASSWORD = "a-long-password"
ANA, BEN = "+15550107001", "+15550107002"


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, sam="volunteer", alex="volunteer", dana="supervisor")


@pytest.fixture
def consoles(live_app, team):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, number, body) -> int:
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                       live_app.auth_token).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation.id).order_by(Conversation.id.desc()))


def phone(live_app, number) -> list[str]:
    got = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)
    return [m.body for m in got]


def test_a_client_id_used_in_another_conversation_stores_and_sends_the_new_reply(live_app, consoles):
    sam = consoles("sam")
    ana, ben = text(live_app, ANA, "hi"), text(live_app, BEN, "hello?")
    assert sam.call("claim", {"conversation_id": ana})["ok"] and sam.call("claim", {"conversation_id": ben})["ok"]
    first = sam.call("reply", {"conversation_id": ana, "body": "Hi Ana, I'm Sam.", "client_id": "c-1"})
    other = sam.call("reply", {"conversation_id": ben, "body": "Hi, I'm here for you.", "client_id": "c-1"})
    assert first["ok"] and other["ok"], other
    # The second reply is its own message in its own conversation, never the first one handed back.
    assert other["message"]["id"] != first["message"]["id"]
    assert other["message"]["conversation_id"] == ben and other["message"]["body"] == "Hi, I'm here for you."
    assert "Hi, I'm here for you." in phone(live_app, BEN) and "Hi Ana, I'm Sam." not in phone(live_app, BEN)
    # The same key again in the same conversation is still the re-sent reply, stored and sent once.
    again = sam.call("reply", {"conversation_id": ben, "body": "Hi, I'm here for you.", "client_id": "c-1"})
    assert again["message"]["id"] == other["message"]["id"]
    assert phone(live_app, BEN).count("Hi, I'm here for you.") == 1


def test_a_client_id_is_scoped_to_its_sender(live_app, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    ana = text(live_app, ANA, "hi")
    assert sam.call("claim", {"conversation_id": ana})["ok"]
    mine = sam.call("reply", {"conversation_id": ana, "body": "I'm listening.", "client_id": "k"})
    adult = dana.call("reply", {"conversation_id": ana, "body": "Hi, I'm Dana, an adult advisor.", "client_id": "k"})
    assert adult["ok"] and adult["message"]["id"] != mine["message"]["id"]
    assert adult["message"]["body"] == "Hi, I'm Dana, an adult advisor."
    note = dana.call("whisper", {"conversation_id": ana, "body": "Ask about school", "client_id": "n"})
    ben = text(live_app, BEN, "hello")
    assert dana.call("take_over", {"conversation_id": ben})["ok"]
    other = dana.call("whisper", {"conversation_id": ben, "body": "Note to self: calm", "client_id": "n"})
    assert other["ok"] and other["note"]["id"] != note["note"]["id"] and other["note"]["conversation_id"] == ben


def test_reply_after_stop_says_the_texter_opted_out(live_app, consoles):
    sam = consoles("sam")
    ana = text(live_app, ANA, "hi")
    assert sam.call("claim", {"conversation_id": ana})["ok"]
    text(live_app, ANA, "STOP")
    refused = sam.call("reply", {"conversation_id": ana, "body": "are you still there?", "client_id": "late"})
    assert not refused["ok"] and refused["code"] == "opted_out"
    assert "opted out" in refused["error"] and "handling" not in refused["error"]
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.body == "are you still there?")) == 0


def test_reply_in_an_ended_conversation_says_it_ended(live_app, consoles):
    sam, dana = consoles("sam"), consoles("dana")
    ana = text(live_app, ANA, "hi")
    assert sam.call("claim", {"conversation_id": ana})["ok"]
    assert dana.call("end", {"conversation_id": ana, "disposition": {"outcome": "supported"}})["ok"]
    refused = sam.call("reply", {"conversation_id": ana, "body": "one more thing"})
    assert refused["code"] == "ended" and "ended" in refused["error"]
    assert consoles("alex").call("reply", {"conversation_id": ana, "body": "hi"})["code"] == "forbidden"


def test_the_key_is_unique_per_conversation_and_sender_on_postgres(tmp_path):
    """Migrations to head on PostgreSQL, then the constraint itself: a re-sent reply cannot be stored twice,
    the same key elsewhere can."""
    with postgres_app(tmp_path) as app, app.app_context():
        sam = create_user("sam@example.org", "Sam", "volunteer", PASSWORD)
        ana, ben = text_row(ANA), text_row(BEN)
        for conv in (ana, ben):
            db.session.add(Message(conversation_id=conv.id, direction="out", author_kind="volunteer",
                                   author_id=sam.id, body="hi", status="pending", idempotency_key="k"))
            db.session.add(ConversationNote(conversation_id=conv.id, author_id=sam.id, body="n",
                                            idempotency_key="k"))
        db.session.commit()
        db.session.add(Message(conversation_id=ana.id, direction="out", author_kind="volunteer", author_id=sam.id,
                               body="hi", status="pending", idempotency_key="k"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(ConversationNote(conversation_id=ana.id, author_id=sam.id, body="n", idempotency_key="k"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def text_row(number) -> Conversation:
    texter = Texter(phone_hash=number, alias=f"Texter {number[-4:]}")
    conv = Conversation(texter=texter, status="active")
    db.session.add(conv)
    db.session.commit()
    return conv
