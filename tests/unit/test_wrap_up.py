"""The wrap-up before a conversation closes: what is required, what is refused and with which words,
and who may close without one (adults with an outcome, the server itself)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.support.state import PASSWORD, make_user
from tests.support.texting import COMPLETE_WRAP_UP, ConsoleClient, inbound_params, login, post_signed, wrap_up
from textline.console import wrap_up as rules
from textline.extensions import db
from textline.models import Conversation
from textline.ops import retention
from textline.safety.resources import default_directory
from textline.texting import conversations
from textline.texting.conversations import ConversationError


def test_a_complete_wrap_up_is_stored_as_given_with_who_wrote_it():
    given = wrap_up(topics=["school", "anxiety", "school"], resources=["988", "trevor"], risk="medium",
                    follow_up="adult")
    stored = rules.validate(given, by_adult=False)
    assert stored == {"outcome": "supported", "topics": ["school", "anxiety"], "risk": "medium",
                      "resources": ["988", "trevor"], "follow_up": "adult", "by": "volunteer"}


@pytest.mark.parametrize("missing, message", [
    ("outcome", "Choose how the conversation ended."),
    ("topics", "Choose at least one topic."),
    ("risk", "Choose the risk level you assessed."),
    ("follow_up", "Choose the follow-up."),
    ("resources", "Say which resources you gave (none is an answer)."),
])
def test_a_volunteer_must_fill_every_field(missing, message):
    given = {k: v for k, v in COMPLETE_WRAP_UP.items() if k != missing}
    with pytest.raises(rules.WrapUpError) as refused:
        rules.validate(given, by_adult=False)
    assert str(refused.value) == message
    given[missing] = "" if missing != "topics" else []
    with pytest.raises(rules.WrapUpError):
        rules.validate(given, by_adult=False)


@pytest.mark.parametrize("changes, message", [
    ({"outcome": "happy"}, "Unknown outcome: 'happy'."),
    ({"topics": ["school", "homework"]}, "Unknown topic: 'homework'."),
    ({"topics": "school"}, "The topic list must be a list of names."),
    ({"risk": "extreme"}, "Unknown risk level: 'extreme'."),
    ({"resources": ["not-a-hotline"]}, "Unknown resource: 'not-a-hotline'."),
    ({"follow_up": "later"}, "Unknown follow-up: 'later'."),
    ({"outcome": "emergency"}, "Only an adult advisor can record that emergency services were contacted."),
    ({"risk": "high", "follow_up": "none"}, "A high risk assessment needs an adult advisor follow-up or a referral."),
])
def test_unknown_values_are_refused_with_the_reason(changes, message):
    with pytest.raises(rules.WrapUpError) as refused:
        rules.validate(wrap_up(**changes), by_adult=False)
    assert str(refused.value).startswith(message)


def test_not_a_form_at_all_is_refused():
    with pytest.raises(rules.WrapUpError, match="Fill in the wrap-up"):
        rules.validate(None, by_adult=False)
    with pytest.raises(rules.WrapUpError, match="must be a set of fields"):
        rules.validate(["supported"], by_adult=False)


def test_an_adult_needs_the_outcome_and_anything_else_given_must_be_valid():
    assert rules.validate({"outcome": "emergency"}, by_adult=True) == {"outcome": "emergency", "by": "adult"}
    assert rules.validate({"outcome": "prank", "topics": ["other"]}, by_adult=True) == {
        "outcome": "prank", "topics": ["other"], "by": "adult"}
    with pytest.raises(rules.WrapUpError, match="Choose how the conversation ended"):
        rules.validate(None, by_adult=True)
    with pytest.raises(rules.WrapUpError, match="Unknown topic"):
        rules.validate({"outcome": "escalated", "topics": ["nope"]}, by_adult=True)


def test_the_form_offers_exactly_what_validation_accepts():
    options = rules.form_options()
    assert "emergency" not in options["outcomes"] and "emergency" in options["adult_outcomes"]
    assert set(options["resources"]) == {r.id for r in default_directory().all()}
    for topic in options["topics"]:
        assert rules.validate(wrap_up(topics=[topic]), by_adult=False)["topics"] == [topic]
    assert {"self_harm", "suicide", "lgbtq", "bullying"} <= set(options["topics"])


def test_reading_back_is_lenient_about_older_rows():
    old = rules.read({"outcome": "supported", "topics": ["school", 3, ""], "risk": None})
    assert (old.outcome, old.topics, old.risk, old.complete) == ("supported", ("school",), None, False)
    assert rules.read(None).outcome is None
    assert rules.read(rules.validate(COMPLETE_WRAP_UP, by_adult=False)).complete


# ---- ending, in the domain and over Socket.IO ---------------------------------------------------

def text_in(live_app, number: str, body: str) -> Conversation:
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                       live_app.auth_token).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def test_a_volunteer_end_without_a_complete_wrap_up_changes_nothing(live_app, app_ctx):
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    conv = text_in(live_app, "+15550108801", "hi")
    conversations.claim(conv.id, sam)
    with pytest.raises(ConversationError) as refused:
        conversations.end(conv.id, sam, {"outcome": "supported", "topics": ["school"]}, "a note")
    assert refused.value.code == "wrap_up" and str(refused.value) == "Choose the risk level you assessed."
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert (conv.status, conv.disposition, conv.wrap_up_note) == ("active", None, None)
    conversations.end(conv.id, sam, wrap_up(outcome="texter_left"), "a note")
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.status == "closed" and conv.disposition["by"] == "volunteer"
    assert conv.disposition["outcome"] == "texter_left" and conv.wrap_up_note == "a note"


def test_an_adult_may_end_a_waiting_prank_with_only_the_outcome(live_app, app_ctx):
    dana = make_user(db.session, "dana@example.org", "supervisor")
    conv = text_in(live_app, "+15550108802", "lol prank")
    conversations.end(conv.id, dana, {"outcome": "prank"}, None)
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).disposition == {"outcome": "prank", "by": "adult"}


def test_erasure_closes_with_a_system_disposition(live_app, app_ctx):
    conv = text_in(live_app, "+15550108803", "please forget me")
    retention.erase_texter(conv.texter)
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.status == "closed" and conv.disposition == {"outcome": "erased", "by": "system"}


def test_end_over_socketio_is_refused_until_the_wrap_up_is_complete(live_app, app_ctx):
    make_user(db.session, "sam@example.org", on_shift=True)
    conv = text_in(live_app, "+15550108804", "can we talk")
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", PASSWORD))
    try:
        sam.wait_for("hello")
        assert sam.call("claim", {"conversation_id": conv.id})["ok"]
        refused = sam.call("end", {"conversation_id": conv.id, "disposition": {"outcome": "supported"}})
        assert refused == {"ok": False, "code": "wrap_up", "field": "topics", "error": "Choose at least one topic."}
        refused = sam.call("end", {"conversation_id": conv.id, "disposition": "supported"})
        assert refused["code"] == "wrap_up" and refused["error"] == "The wrap-up must be a set of fields."
        db.session.expire_all()
        assert db.session.get(Conversation, conv.id).status == "active"
        ended = sam.call("end", {"conversation_id": conv.id, "disposition": wrap_up(topics=["family"])})
        assert ended["ok"] and ended["conversation"]["status"] == "closed"
    finally:
        threading.Thread(target=sam.close, daemon=True).start()


def test_a_wrap_up_after_stop_is_recorded_beside_the_system_outcome(live_app, app_ctx):
    """The texter sent STOP mid-conversation: the volunteer can still record topics, risk and follow-up;
    the outcome stays what happened (opted out). Once recorded as the volunteer's, nothing changes it."""
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    conv = text_in(live_app, "+15550108805", "my brother keeps hitting me")
    conversations.claim(conv.id, sam)
    text_in(live_app, "+15550108805", "STOP")
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).disposition == {"outcome": "opted_out", "by": "system"}
    with pytest.raises(ConversationError, match="Choose at least one topic"):
        conversations.end(conv.id, sam, {"outcome": "texter_left"}, None)
    conversations.end(conv.id, sam, wrap_up(outcome="texter_left", topics=["family", "abuse"], risk="medium",
                                            follow_up="adult"), "brother hitting, told an adult")
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.disposition == {"outcome": "opted_out", "volunteer_outcome": "texter_left",
                                "topics": ["family", "abuse"], "risk": "medium", "resources": [],
                                "follow_up": "adult", "by": "system"}
    assert conv.wrap_up_note == "brother hitting, told an adult" and rules.read(conv.disposition).complete


def test_nobody_adds_a_wrap_up_to_a_conversation_someone_else_closed(live_app, app_ctx):
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    alex = make_user(db.session, "alex@example.org", on_shift=True)
    dana = make_user(db.session, "dana@example.org", "supervisor")
    conv = text_in(live_app, "+15550108806", "hi")
    conversations.claim(conv.id, sam)
    conversations.end(conv.id, dana, {"outcome": "escalated"}, None)  # an adult ended it
    conversations.end(conv.id, sam, wrap_up(), "late")
    other = text_in(live_app, "+15550108807", "hello")
    conversations.claim(other.id, sam)
    text_in(live_app, "+15550108807", "STOP")
    with pytest.raises(ConversationError, match="only end conversations you are handling"):
        conversations.end(other.id, alex, wrap_up(), "not mine")
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).disposition == {"outcome": "escalated", "by": "adult"}
    assert db.session.get(Conversation, conv.id).wrap_up_note is None
    assert db.session.get(Conversation, other.id).disposition == {"outcome": "opted_out", "by": "system"}


def test_a_wrap_up_owed_after_stop_comes_back_after_a_reload(live_app, app_ctx):
    """The tab says the wrap-up is still owed; a reload (a new socket's hello) must bring it back, until
    the volunteer has written it."""
    make_user(db.session, "sam@example.org", on_shift=True)
    conv = text_in(live_app, "+15550108808", "my brother keeps hitting me")
    cookie = login(live_app.base_url, "sam@example.org", PASSWORD)
    tab = ConsoleClient(live_app.base_url, cookie)
    tab.wait_for("hello")
    assert tab.call("claim", {"conversation_id": conv.id})["ok"]
    text_in(live_app, "+15550108808", "STOP")
    ended = tab.wait_for("conversation", lambda c: c["id"] == conv.id and c["status"] == "closed")
    threading.Thread(target=tab.close, daemon=True).start()

    reloaded = ConsoleClient(live_app.base_url, cookie)
    try:
        mine = reloaded.wait_for("hello")["mine"]
        assert [(c["id"], c["status"]) for c in mine] == [(conv.id, "closed")]
        assert mine[0]["wrap_up_pending"] is True and ended["wrap_up_pending"] is True
        assert reloaded.call("open", {"conversation_id": conv.id})["ok"]
        done = reloaded.call("end", {"conversation_id": conv.id, "disposition": wrap_up(topics=["family"])})
        assert done["ok"] and done["conversation"]["wrap_up_pending"] is False
    finally:
        threading.Thread(target=reloaded.close, daemon=True).start()
    again = ConsoleClient(live_app.base_url, cookie)
    try:
        assert again.wait_for("hello")["mine"] == []  # written: nothing is owed any more
        unchanged = again.call("end", {"conversation_id": conv.id, "disposition": wrap_up(topics=["school"])})
        assert unchanged["ok"]
    finally:
        threading.Thread(target=again.close, daemon=True).start()
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).disposition["topics"] == ["family"]  # the first one stays
