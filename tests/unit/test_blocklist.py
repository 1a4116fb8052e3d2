"""Blocking a texter (textline/blocklist/blocks.py) and flood throttling (floods.py), through signed
webhooks, the dashboard's socket event and the review page; real Redis, SQLite, and PostgreSQL for the
rows that must hold there too."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.support.pg_app import postgres_app
from tests.support.team import on_shift
from tests.support.texting import console_opener, phone_live, text_live
from tests.support.web import Browser, csrf_token, sign_in
from textline.blocklist import blocks
from textline.extensions import db
from textline.models import (
    BLOCKED, WAITING, AuditEvent, Conversation, Escalation, Message, Texter, TexterBlock, utcnow,
)
from textline.ops import retention
from textline.texting import conversations, queue
from workers.blocklist import expire_blocks

pytestmark = pytest.mark.usefixtures("app_ctx")

PASSWORD = "a-long-password"
TEXTER = "+15550107777"
HIGH = "i have the pills in my hand and i want to kill myself tonight"


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, sam="volunteer", dana="supervisor")


@pytest.fixture
def open_console(live_app):
    yield from console_opener(live_app.base_url, PASSWORD)


def text(live_app, body, number=TEXTER) -> Conversation:
    return text_live(live_app, body, number)


def phone(live_app, number=TEXTER) -> list[str]:
    return phone_live(live_app, number)


def kinds(conv_id) -> list[str]:
    return db.session.scalars(select(Message.kind).where(Message.conversation_id == conv_id, Message.direction == "out")
                              .order_by(Message.id)).all()


def actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("texter.block%"))
                              .order_by(AuditEvent.id)).all()


def test_a_blocked_texter_is_stored_not_queued_and_told_once_a_day_with_crisis_resources(live_app, team):
    conv = text(live_app, "hey")
    assert conv.id in queue.ordered_ids()
    blocks.block(conv.id, team["dana"], "sent threats to volunteers", 7)
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == BLOCKED
    assert conv.id not in queue.ordered_ids()  # gone from every volunteer's queue at once

    for body in ("you cant ignore me", "answer me", "HELP"):
        text(live_app, body)
    stored = db.session.scalars(select(Message.body).where(Message.conversation_id == conv.id,
                                                           Message.direction == "in")).all()
    assert stored == ["hey", "you cant ignore me", "answer me", "HELP"]  # nothing dropped
    assert conv.id not in queue.ordered_ids()
    assert kinds(conv.id) == ["welcome", "blocked"]  # one reply, not one per text (HELP included)
    assert "988" in phone(live_app)[-1]

    entry = db.session.scalar(select(TexterBlock))
    entry.last_reply_at = utcnow() - timedelta(hours=25)  # a day later
    db.session.commit()
    text(live_app, "still here")
    assert kinds(conv.id) == ["welcome", "blocked", "blocked"]
    assert actions() == ["texter.block"]


def test_a_high_risk_text_from_a_blocked_texter_still_alerts_an_adult(live_app, team, open_console):
    conv = text(live_app, "hey")
    blocks.block(conv.id, team["dana"], "abuse", 30)
    dana = open_console("dana")
    text(live_app, HIGH)
    esc = db.session.scalar(select(Escalation).where(Escalation.conversation_id == conv.id))
    assert esc is not None and esc.reason == "risk"  # safety beats the block
    alert = dana.wait_for("alert", lambda a: a["conversation_id"] == conv.id)
    assert alert["reason"] == "risk" and alert["state"] == "open"
    assert "crisis" in kinds(conv.id)  # and the texter gets the 988/911 text
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == BLOCKED and conv.id not in queue.ordered_ids()


def test_a_block_is_made_from_the_dashboard_changed_and_lifted_on_the_review_page(live_app, team, open_console):
    conv = text(live_app, "hey")
    dana = open_console("dana")
    refused = dana.call("block_texter", {"conversation_id": conv.id, "reason": "", "days": 7})
    assert refused["ok"] is False and refused["field"] == "reason"
    refused = dana.call("block_texter", {"conversation_id": conv.id, "reason": "spam", "days": 10_000})
    assert refused["ok"] is False and refused["field"] == "days"
    done = dana.call("block_texter", {"conversation_id": conv.id, "reason": "spam", "days": 7})
    assert done["ok"] and done["conversation"]["status"] == BLOCKED and done["block"]["reason"] == "spam"
    again = dana.call("block_texter", {"conversation_id": conv.id, "reason": "spam", "days": 7})
    assert again["code"] == "already_blocked"
    assert dana.call("take_over", {"conversation_id": conv.id})["code"] == "blocked"  # join and write instead
    assert dana.call("adult_join", {"conversation_id": conv.id})["ok"]
    watched = dana.call("watch", {"conversation_id": conv.id})
    assert watched["block"]["id"] == done["block"]["id"]
    assert TEXTER not in str(done) + str(watched)  # the key, never the number

    browser = Browser(live_app.base_url)
    sign_in(browser, "dana@example.org", PASSWORD)
    page = browser.get("/supervise/blocks")
    assert page.status_code == 200
    assert conv.texter.alias in page.text and "spam" in page.text and "in force" in page.text
    token = csrf_token(browser, "/supervise/blocks")
    block_id = done["block"]["id"]
    assert browser.post(f"/supervise/blocks/{block_id}", data={"reason": "spam, repeated", "days": "2",
                                                               "csrf_token": token}).status_code == 303
    db.session.expire_all()
    entry = db.session.get(TexterBlock, block_id)
    assert entry.reason == "spam, repeated" and entry.expires_at < utcnow() + timedelta(days=2, minutes=1)

    assert browser.post(f"/supervise/blocks/{block_id}/lift", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(TexterBlock, block_id).lifted_by_id == team["dana"].id
    assert db.session.get(Conversation, conv.id).status == WAITING and conv.id in queue.ordered_ids()
    assert actions() == ["texter.block", "texter.block_change", "texter.block_lift"]
    page = browser.get("/supervise/blocks")
    assert "lifted" in page.text and "History (3)" in page.text


def test_an_expired_block_lets_the_next_text_into_the_queue(live_app, team):
    conv = text(live_app, "hey")
    entry = blocks.block(conv.id, team["dana"], "spam", 1)
    entry.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    text(live_app, "sorry about before")
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == WAITING and conv.id in queue.ordered_ids()
    assert "blocked" not in kinds(conv.id)
    # and a new block can be made: the expired one no longer holds the texter's place
    blocks.block(conv.id, team["dana"], "again", 1)
    assert db.session.scalar(select(TexterBlock).where(TexterBlock.reason == "spam")).lifted_at is not None
    assert actions() == ["texter.block", "texter.block_lift", "texter.block"]  # the expiry is on record too


def test_beat_s_expiry_sweep_queues_a_held_back_conversation_without_waiting_for_a_text(live_app, team):
    conv = text(live_app, "hey")
    entry = blocks.block(conv.id, team["dana"], "spam", 1)
    assert expire_blocks() == 0  # in force: nothing to do
    entry.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert expire_blocks() == 1
    assert expire_blocks() == 0  # once
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == WAITING and conv.id in queue.ordered_ids()
    assert blocks.state(db.session.get(TexterBlock, entry.id), utcnow()) == "expired"
    assert actions() == ["texter.block", "texter.block_lift"]


def test_a_block_made_while_a_volunteer_holds_it_holds_back_the_next_conversation(live_app, team, open_console):
    conv = text(live_app, "hey")
    sam = open_console("sam")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    blocks.block(conv.id, team["dana"], "abuse", 7)
    told = sam.wait_for("notice", lambda n: n["kind"] == "blocked")  # the volunteer knows
    assert told["conversation_id"] == conv.id and "stays with you" in told["text"]
    text(live_app, "still talking")
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == "active"  # the volunteer keeps it until it ends
    conversations.end(conv.id, team["sam"], {"outcome": "prank", "topics": ["other"], "risk": "none",
                                             "resources": [], "follow_up": "none"}, None)
    nxt = text(live_app, "hi again")
    assert nxt.id != conv.id and nxt.status == BLOCKED and nxt.id not in queue.ordered_ids()


def test_an_adult_ending_a_blocked_conversation_sends_no_survey(live_app, team):
    conv = text(live_app, "hey")
    blocks.block(conv.id, team["dana"], "abuse", 7)
    conversations.reply(conv.id, team["dana"], "An adult here: we can talk if you are in danger.")  # adults may
    conversations.end(conv.id, team["dana"], {"outcome": "prank"}, None)
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == "closed"
    assert kinds(conv.id) == ["welcome", None]  # the adult's reply; no survey text to a blocked texter


def test_erasing_a_texter_lifts_their_block(live_app, team):
    conv = text(live_app, "hey")
    blocks.block(conv.id, team["dana"], "abuse", 7)
    retention.erase_texter(db.session.get(Texter, conv.texter_id))
    assert db.session.scalar(select(TexterBlock)).lifted_at is not None
    assert actions() == ["texter.block", "texter.block_lift"]
    fresh = text(live_app, "hello")  # the number is a new texter now, with no block
    assert fresh.texter_id != conv.texter_id and fresh.status == WAITING


def test_volunteers_cannot_block(live_app, team):
    conv = text(live_app, "hey")
    with pytest.raises(blocks.BlockError):
        blocks.block(conv.id, team["sam"], "no", 1)


# ---- floods --------------------------------------------------------------------------------------

def test_a_flood_is_stored_whole_and_the_adults_hear_once_while_it_waits(live_app, team, cfg, open_console):
    cfg["FLOOD_RATE"] = "3 per minute"
    dana = open_console("dana")
    for n in range(8):
        text(live_app, "HELP" if n % 2 else f"text {n}")
    conv = db.session.scalar(select(Conversation))
    assert db.session.scalar(select(db.func.count()).select_from(Message).where(
        Message.conversation_id == conv.id, Message.direction == "in")) == 8  # never dropped
    assert conv.status == WAITING and queue.ordered_ids() == [conv.id]
    assert kinds(conv.id) == ["welcome", "help"]  # HELP answered before the flood, not during it
    dana.wait_for("notice", lambda n: n["kind"] == "flood")
    text(live_app, "more")
    text(live_app, "marker", number="+15550107779")  # emitted after everything "more" caused, in order
    dana.wait_for("message", lambda m: m["body"] == "marker")
    floods = [d for name, d in dana.seen if name == "notice" and d["kind"] == "flood"]
    assert len(floods) == 1


def test_a_flood_tells_the_volunteer_holding_it_once(live_app, team, cfg, open_console):
    cfg["FLOOD_RATE"] = "2 per minute"
    conv = text(live_app, "hey")
    sam = open_console("sam")
    assert sam.call("claim", {"conversation_id": conv.id})["ok"]
    for n in range(5):
        text(live_app, f"again {n}")
    notice = sam.wait_for("notice", lambda n: n["kind"] == "flood")
    assert notice["conversation_id"] == conv.id and TEXTER not in str(notice)
    sam.wait_for("message", lambda m: m["body"] == "again 4")  # every text still reaches the volunteer
    bodies = [d["body"] for name, d in sam.seen if name == "message" and d["direction"] == "in"]
    assert [f"again {n}" for n in range(5)] == [b for b in bodies if b.startswith("again")]
    assert len([d for name, d in sam.seen if name == "notice"]) == 1


def test_a_high_risk_text_in_a_flood_still_raises_the_queue(live_app, team, cfg):
    cfg["FLOOD_RATE"] = "1 per minute"
    text(live_app, "hey", number="+15550107778")
    conv = text(live_app, "hey")
    text(live_app, "hey again")
    assert queue.ordered_ids() == [conv.id - 1, conv.id]
    text(live_app, HIGH)
    assert queue.ordered_ids()[0] == conv.id  # flooding never lowers safety
    assert db.session.scalar(select(Escalation).where(Escalation.conversation_id == conv.id)) is not None


# ---- PostgreSQL ----------------------------------------------------------------------------------

def test_postgres_one_unlifted_block_per_texter_and_one_reply_a_day(tmp_path):
    with postgres_app(tmp_path) as app, app.app_context():
        texter = Texter(phone_hash="k" * 64, alias="Texter KKKK")
        db.session.add(texter)
        db.session.flush()
        now = utcnow()
        first = TexterBlock(texter_id=texter.id, reason="abuse", created_at=now, expires_at=now + timedelta(days=1))
        db.session.add(first)
        db.session.commit()
        db.session.add(TexterBlock(texter_id=texter.id, reason="again", created_at=now,
                                   expires_at=now + timedelta(days=1)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert blocks.in_force(texter.id, now).id == first.id
        assert blocks.claim_daily_reply(first, now) is True
        db.session.commit()
        assert blocks.claim_daily_reply(first, now + timedelta(hours=23)) is False
        assert blocks.claim_daily_reply(first, now + timedelta(hours=24)) is True
        db.session.commit()
        first.lifted_at = now
        db.session.commit()
        db.session.add(TexterBlock(texter_id=texter.id, reason="later", created_at=now,
                                   expires_at=now + timedelta(days=1)))
        db.session.commit()  # a lifted block does not hold the place
        assert blocks.in_force(texter.id, now).reason == "later"
