"""The post-conversation survey: sent once when a conversation ends, its 1-5 answer stored against that
conversation (not opened as a new one), over real HTTP, SQL, Redis and the fake Twilio."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.state import make_user
from tests.support.texting import fake_twilio_client, inbound_params, post_signed, wrap_up
from textline.extensions import db
from textline.models import Conversation, Message, SurveyResponse
from textline.redis_store import get_redis
from textline.texting import conversations, survey
from textline.texting.wording import default

DEFAULT_SURVEY, DEFAULT_SURVEY_THANKS = default("survey"), default("survey_thanks")

TEXTER = "+15550108801"
FINAL = ("delivered", "undelivered", "failed", "refused", "canceled")


@pytest.mark.parametrize("body, score", [
    ("5", 5), ("1", 1), (" 4 ", 4), ("5!", 5), ("3.", 3), ("Five", 5), ("two!!", 2), ("4/5", 4),
    ("4 / 5", 4), ("3 out of 5", 3), ("FOUR OUT OF FIVE", 4),
])
def test_a_whole_message_that_is_a_score_counts(body, score):
    assert survey.parse_score(body) == score


@pytest.mark.parametrize("body", [
    "", "0", "6", "10", "55", "5 but i still feel awful", "i want to die", "1 more thing", "-1", "4.5",
    "five stars", "stop", "help", None,
])
def test_anything_else_is_not_a_score(body):
    assert survey.parse_score(body) is None


def text_in(live_app, body, number=TEXTER):
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200
    return response


def sent_bodies(live_app, number=TEXTER):
    client = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token)
    return [m.body for m in reversed(client.messages.list(to=number))]  # oldest first


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(autouse=True)
def settled(live_app):
    """Let the fake Twilio finish its delivery callbacks before the next test resets everything."""
    yield
    from tests.support.servers import wait_until

    with live_app.app.app_context():
        def done():
            db.session.expire_all()
            return count(Message, Message.direction == "out", Message.status.not_in(FINAL)) == 0
        wait_until(done, timeout=15, what="outbound texts to reach a final state")


@pytest.fixture
def ended(live_app, app_ctx):
    """A conversation a volunteer claimed, answered and ended: the survey has gone out."""
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    text_in(live_app, "hi, can we talk")
    conv = db.session.scalar(select(Conversation))
    conversations.claim(conv.id, sam)
    conversations.reply(conv.id, sam, "Of course. I'm Sam.", "r-1")
    conversations.end(conv.id, sam, wrap_up(), None)
    return conv


def test_ending_a_conversation_sends_one_survey(live_app, ended):
    assert sent_bodies(live_app)[-1] == DEFAULT_SURVEY
    surveys = db.session.scalars(select(Message).where(Message.kind == "survey")).all()
    assert len(surveys) == 1 and surveys[0].conversation_id == ended.id
    assert surveys[0].status in ("queued", "sent", "delivered")  # handed to Twilio
    # Ending again (a second click, another tab) sends nothing more.
    conversations.end(ended.id, db.session.get(Conversation, ended.id).volunteer, None, None)
    assert sent_bodies(live_app).count(DEFAULT_SURVEY) == 1


def test_a_score_is_stored_against_the_closed_conversation_and_thanked(live_app, ended):
    text_in(live_app, "4!")
    db.session.expire_all()
    assert count(Conversation) == 1  # no new conversation...
    assert get_redis().zcard("tl:queue") == 0  # ...and nobody waiting in the queue
    response = db.session.scalar(select(SurveyResponse))
    assert (response.conversation_id, response.score) == (ended.id, 4)
    assert response.message.body == "4!" and response.message.kind == "survey_answer"
    assert sent_bodies(live_app)[-1] == DEFAULT_SURVEY_THANKS

    # Only the first answer counts: another "5" is someone texting again, so it opens a conversation.
    text_in(live_app, "5")
    db.session.expire_all()
    assert count(SurveyResponse) == 1
    new = db.session.scalar(select(Conversation).where(Conversation.status == "waiting"))
    assert new is not None and [m.body for m in new.messages if m.direction == "in"] == ["5"]


def test_any_other_text_after_the_survey_opens_a_new_conversation(live_app, ended):
    text_in(live_app, "actually it got worse again")
    db.session.expire_all()
    assert count(SurveyResponse) == 0
    assert count(Conversation, Conversation.status == "waiting") == 1
    # Mid-conversation a number is part of the conversation, not a survey answer.
    text_in(live_app, "3")
    db.session.expire_all()
    assert count(SurveyResponse) == 0
    waiting = db.session.scalar(select(Conversation).where(Conversation.status == "waiting"))
    assert [m.body for m in waiting.messages if m.direction == "in"] == ["actually it got worse again", "3"]


def test_an_answer_after_the_window_opens_a_new_conversation(live_app, ended):
    window = live_app.app.config["SURVEY_WINDOW_HOURS"]
    sent = db.session.scalar(select(Message).where(Message.kind == "survey"))
    sent.created_at = sent.created_at - timedelta(hours=window, minutes=1)
    db.session.commit()
    text_in(live_app, "5")
    db.session.expire_all()
    assert count(SurveyResponse) == 0
    assert count(Conversation, Conversation.status == "waiting") == 1


def test_no_survey_without_a_conversation(live_app, app_ctx):
    """Ended before anyone replied (the texter left the queue, or it was closed unanswered): no survey."""
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    text_in(live_app, "hello?")
    conv = db.session.scalar(select(Conversation))
    conversations.claim(conv.id, sam)
    conversations.end(conv.id, sam, wrap_up(outcome="texter_left"), None)
    assert DEFAULT_SURVEY not in sent_bodies(live_app)
    assert count(Message, Message.kind == "survey") == 0


def test_no_survey_to_an_opted_out_texter(live_app, ended, app_ctx):
    """STOP closes a conversation with the texter opted out: they get nothing more, survey included."""
    sam = db.session.scalar(select(Conversation)).volunteer
    text_in(live_app, "one more thing")
    conv = db.session.scalar(select(Conversation).where(Conversation.status == "waiting"))
    conversations.claim(conv.id, sam)
    conversations.reply(conv.id, sam, "I'm here.", "r-2")
    conv.texter.opted_out = True
    db.session.commit()
    conversations.end(conv.id, sam, wrap_up(), None)
    assert count(Message, Message.kind == "survey", Message.conversation_id == conv.id) == 0


def test_surveys_can_be_switched_off(live_app, app_ctx, monkeypatch):
    monkeypatch.setitem(live_app.app.config, "SURVEY_ENABLED", False)
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    text_in(live_app, "hi")
    conv = db.session.scalar(select(Conversation))
    conversations.claim(conv.id, sam)
    conversations.reply(conv.id, sam, "hey", "r-3")
    conversations.end(conv.id, sam, wrap_up(), None)
    assert count(Message, Message.kind == "survey") == 0
    text_in(live_app, "5")
    db.session.expire_all()
    assert count(Conversation, Conversation.status == "waiting") == 1


def test_no_survey_when_the_system_closes_it(live_app, app_ctx):
    """An erasure request (or STOP) closes an open conversation with nobody ending it: no survey text
    goes to someone who asked to be forgotten."""
    from textline.ops import retention

    sam = make_user(db.session, "sam@example.org", on_shift=True)
    text_in(live_app, "hi")
    conv = db.session.scalar(select(Conversation))
    conversations.claim(conv.id, sam)
    conversations.reply(conv.id, sam, "hey, I'm Sam", "r-4")
    retention.erase_texter(conv.texter)
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).status == "closed"
    assert count(Message, Message.kind == "survey") == 0
    assert DEFAULT_SURVEY not in sent_bodies(live_app)
