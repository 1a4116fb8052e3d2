"""What one inbound text costs in round trips (issue 17): the texter, their open conversation and their
block in force come in one SQL look-up, and a text that leaves the conversation's deadline where it was
times no new sweep (the text that set the deadline did). On SQLite and PostgreSQL, real Redis."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.support.state import make_user
from tests.support.texting import new_sid
from textline.extensions import db
from textline.models import Conversation, TexterBlock, User, utcnow
from textline.redis_store import get_redis, key
from textline.safety import deadlines
from textline.texting import conversations
from textline.texting.inbound import announce_inbound, receive_inbound

TEXTER = "+15550107700"


@pytest.fixture(params=["sqlite", "postgres"])
def on_db(request):
    """An app context on each database."""
    if request.param == "sqlite":
        app = request.getfixturevalue("app")
    else:
        app = request.getfixturevalue("pg_app")
    with app.app_context():
        yield app
        db.session.remove()


@contextmanager
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.split(None, 1)[0].upper() + " " + _table(statement))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _table(statement: str) -> str:
    words = statement.replace("\n", " ").split()
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in words:
            return words[words.index(marker) + 1]
    return ""


def text(body: str, number: str = TEXTER, announce: bool = True):
    result = receive_inbound(number, body, new_sid())
    if announce:
        announce_inbound(result)
    db.session.remove()
    return result


def timed_sweeps() -> list[str]:
    """The Redis marks of timed sweeps (timers.schedule writes one per deadline step it times)."""
    return sorted(get_redis().scan_iter(key("timers", "at", "*")))


def forget_timed_sweeps() -> None:
    for name in timed_sweeps():
        get_redis().delete(name)


def test_a_text_into_an_open_conversation_looks_up_texter_conversation_and_block_at_once(on_db):
    text("hi, is anyone there?", announce=False)
    with statements() as seen:  # the transaction that stores it (what follows the commit is not SQL)
        text("still here, it has been a long day", announce=False)
    reads = [s for s in seen if s.startswith("SELECT")]
    assert reads == ["SELECT texters"], seen  # texter + phone + open conversation + volunteer + block
    assert sorted(seen) == ["INSERT messages", "SELECT texters", "UPDATE conversations"], seen


def test_the_one_look_up_still_finds_a_block_in_force_and_ignores_a_lifted_one(on_db):
    conv_id = text("hello?", announce=False).conversation.id
    adult_id = make_user(db.session, "ada@example.org", role="supervisor").id
    # Rows as blocks.block and blocks.lift write them (they also tell consoles, which needs Celery).
    conv = db.session.get(Conversation, conv_id)
    lapsed = TexterBlock(texter_id=conv.texter_id, reason="earlier", created_by_id=adult_id,
                         expires_at=utcnow() - timedelta(days=1), lifted_at=utcnow() - timedelta(days=1))
    entry = TexterBlock(texter_id=conv.texter_id, conversation_id=conv_id, reason="spam links, over and over",
                        created_by_id=adult_id, expires_at=utcnow() + timedelta(days=1))
    db.session.add_all([lapsed, entry])
    db.session.commit()
    entry_id = entry.id
    db.session.remove()
    held = text("hello again", announce=False)
    assert held.block is not None and held.block.id == entry_id
    assert db.session.get(Conversation, conv_id).status == "blocked"
    db.session.get(TexterBlock, entry_id).lifted_at = utcnow()
    db.session.commit()
    db.session.remove()
    back = text("are you there", announce=False)
    assert back.block is None and back.conversation.id == conv_id
    assert db.session.get(Conversation, conv_id).status == "waiting"


def test_a_text_that_leaves_the_deadline_where_it_was_times_no_new_sweep(app_ctx):
    # SQLite only: what is asked of Redis does not depend on the database (the look-up test runs on both).
    conv_id = text("hi, anyone?").conversation.id
    assert timed_sweeps(), "the text that opened it timed a sweep for its wait"
    due = deadlines.next_for(db.session.get(Conversation, conv_id))
    forget_timed_sweeps()  # so that any sweep timed again shows
    text("hello??")  # still waiting: the same deadline, its sweep timed by the first text
    assert timed_sweeps() == []
    assert deadlines.next_for(db.session.get(Conversation, conv_id)) == due

    volunteer_id = make_user(db.session, "val@example.org", on_shift=True).id
    conversations.claim(conv_id, db.session.get(User, volunteer_id))
    conversations.reply(conv_id, db.session.get(User, volunteer_id), "hi, I'm here. what's going on?")
    db.session.remove()
    forget_timed_sweeps()
    text("thanks for answering")  # answered, then a new text: a new deadline, a sweep timed for it
    conv = db.session.get(Conversation, conv_id)
    due = deadlines.next_for(conv)
    assert due == conv.awaiting_reply_since + deadlines.seconds(deadlines.DEADLINE_SETTINGS["no_reply"])
    assert len(timed_sweeps()) == 1
    forget_timed_sweeps()
    text("are you still there?")  # still unanswered: the same deadline
    assert timed_sweeps() == []
    assert deadlines.next_for(db.session.get(Conversation, conv_id)) == due
