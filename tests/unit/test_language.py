"""A conversation's language (textline/texting/language.py), what follows from it: the payloads, the
adults' alert when nobody on shift reads it (SQLite and PostgreSQL), the volunteer's order of the queue
(static/js/routing.js, run in node) and the languages on a profile.

The texts below were written for these tests and are not in tests/data/langid_short.jsonl, on which the
thresholds were chosen (bench/bench_langid.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.state import PASSWORD
from tests.support.team import on_shift
from tests.support.texting import inbound_params, new_sid, post_signed
from tests.support.web import Browser, csrf_token, sign_in
from textline import payloads
from textline.extensions import db
from textline.models import AuditEvent, Conversation, Escalation, Page, User
from textline.safety import deadlines, escalation
from textline.texting import conversations, language, language_override
from textline.texting.inbound import receive_inbound

ROUTING_JS = Path(__file__).resolve().parents[2] / "textline" / "static" / "js" / "routing.js"

SPANISH = ["oye tengo mucho miedo de volver a mi casa", "mi novio me grita todo el tiempo",
           "no puedo dormir desde hace semanas", "me siento muy solo en la escuela",
           "mis papas se estan separando y nadie me pregunta nada", "ya no aguanto a mi familia",
           "estoy llorando en el baño del colegio", "quiero hablar con alguien porfa"]
ENGLISH = ["my parents keep fighting and i cant sleep", "i feel like nobody at school gets me",
           "can someone talk to me please, it's been a bad week", "my girlfriend broke up with me today",
           "i'm scared to go home tonight", "everything feels pointless lately honestly"]
NOTHING = ["ok", "k", "?", "...", "😭😭", "hi", "hey", "lol", "ya", "si", "no", "hmm", "👋"]


# ---- detection ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", SPANISH)
def test_a_spanish_first_text_is_spanish_at_once(text):
    assert language.decide([text]) == "es"


@pytest.mark.parametrize("text", ENGLISH)
def test_an_english_first_text_is_english_or_not_yet_known_never_spanish(text):
    assert language.decide([text]) in ("en", None)


@pytest.mark.parametrize("text", NOTHING)
def test_a_text_with_nothing_to_go_on_decides_nothing(text):
    assert language.decide([text]) is None


def test_short_texts_before_spanish_do_not_hide_it():
    assert language.decide(["hi", "?"]) is None
    assert language.decide(["hi", "?", "necesito hablar con alguien"]) == "es"
    assert language.decide(["hey", "estas ahi?"]) in ("es", None)


def test_english_is_the_fallback_after_three_texts_with_letters_only():
    assert language.decide(["ok", "ok", "😭"]) is None  # the emoji is not a text to judge
    assert language.decide(["ok", "k", "hmm"]) == "en"
    assert language.decide(["bom dia", "preciso de ajuda", "estou triste"]) == "en"  # the line has en and es


def test_codes_keep_the_supported_languages_in_order():
    assert language.codes("es en xx") == ["en", "es"]
    assert language.codes(None) == [] and language.codes("fr") == []


def test_detection_is_cheap():
    """The inbound path is measured (bench/): a decision is tens of microseconds, well under 1 ms."""
    texts = SPANISH + ENGLISH + NOTHING
    start = time.process_time()
    for _ in range(20):
        for t in texts:
            language.decide([t])
    per_call = (time.process_time() - start) / (20 * len(texts))
    assert per_call < 0.001, per_call


# ---- in the inbound path, and the payloads ----------------------------------------------------------

def text(live_app, body, number):
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200, response.text
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def test_the_language_is_decided_on_the_first_texts_then_kept(live_app, app_ctx):
    number = "+15550107001"
    conv = text(live_app, "hola", number)
    assert conv.language is None  # "hola" alone is not enough
    conv = text(live_app, "me siento muy mal, no se que hacer", number)
    assert conv.language == "es"
    conv = text(live_app, "ok thanks, my english is fine too, whatever works for you", number)
    assert conv.language == "es"  # kept: a person reads the switch, the routing does not flip
    row = payloads.conversation(conv)
    assert (row["language"], row["language_name"]) == ("es", "Spanish")
    english = text(live_app, "hey is anyone there? i really need to talk", "+15550107002")
    assert english.language == "en" and payloads.conversation(english)["language_name"] == "English"


def test_an_unknown_language_is_none_in_the_payload(live_app, app_ctx):
    conv = text(live_app, "😭", "+15550107003")
    assert conv.language is None
    assert payloads.conversation(conv)["language"] is None and payloads.conversation(conv)["language_name"] is None


# ---- nobody on shift reads it: an adult is alerted ---------------------------------------------------

def _people(**languages):
    people = on_shift(PASSWORD, dana="supervisor", **{name: "volunteer" for name in languages})
    for name, spoken in languages.items():
        people[name].languages = spoken
    db.session.commit()
    return people


def _check_no_speaker_escalation(conv, people, config):
    after = config["ESCALATE_NO_SPEAKER_SECONDS"]
    assert after < config["ESCALATE_WAIT_SECONDS"]  # it comes before the ordinary long-wait alert
    assert deadlines.next_for(conv) == conv.waiting_since + timedelta(seconds=after)
    assert escalation.sweep(conv.waiting_since + timedelta(seconds=after - 5))["opened"] == 0
    assert escalation.sweep(conv.waiting_since + timedelta(seconds=after + 1))["opened"] == 1
    assert escalation.sweep(conv.waiting_since + timedelta(seconds=after + 2))["opened"] == 0  # once
    [esc] = db.session.scalars(select(Escalation).where(Escalation.reason == "no_speaker")).all()
    alert = payloads.alert(esc)
    assert alert["reason_text"] == "No Spanish-speaking volunteer on shift"
    assert (alert["language"], alert["language_name"]) == ("es", "Spanish")
    assert abs(deadlines.due_at(esc) - (conv.waiting_since + timedelta(seconds=after))) < timedelta(milliseconds=1)
    # A Spanish-speaking volunteer comes on shift: the cause is gone, the alert resolves by itself.
    people["lu"].on_shift = True
    db.session.commit()
    escalation.sweep(conv.waiting_since + timedelta(seconds=after + 3))
    db.session.refresh(esc)
    assert esc.state == "resolved" and esc.next_page_at is None


def test_a_spanish_texter_nobody_on_shift_reads_alerts_an_adult(live_app, app_ctx, cfg):
    people = _people(sam="en", lu="en es")
    people["lu"].on_shift = False
    db.session.commit()
    conv = text(live_app, "necesito ayuda por favor, estoy muy asustada", "+15550107010")
    assert conv.language == "es"
    _check_no_speaker_escalation(conv, people, cfg)


def test_the_page_says_which_language_nobody_reads(live_app, app_ctx, cfg):
    people = _people(sam="en")
    people["dana"].pager_phone = "+15550009001"
    db.session.commit()
    conv = text(live_app, "necesito ayuda por favor, estoy muy asustada", "+15550107014")
    due = conv.waiting_since + timedelta(seconds=cfg["ESCALATE_NO_SPEAKER_SECONDS"] + 1)
    assert escalation.sweep(due)["opened"] == 1
    assert escalation.sweep(due + timedelta(seconds=cfg["PAGE_AFTER_SECONDS"] + 1))["pages"] == 1
    [page] = db.session.scalars(select(Page)).all()
    assert "No Spanish-speaking volunteer on shift" in page.body and conv.texter.alias in page.body


def test_no_alert_when_someone_on_shift_reads_it_nor_for_english(live_app, app_ctx, cfg):
    _people(sam="en", lu="en es")
    es = text(live_app, "necesito ayuda por favor, estoy muy asustada", "+15550107011")
    for volunteer in db.session.scalars(select(User).where(User.role == "volunteer")):
        volunteer.on_shift = False  # nobody at all: English still waits for the ordinary `wait` alert
    db.session.commit()
    en = text(live_app, "hey is anyone there? i really need to talk", "+15550107012")
    assert en.language == "en"
    after = cfg["ESCALATE_NO_SPEAKER_SECONDS"]
    assert escalation.sweep(en.waiting_since + timedelta(seconds=after + 1))["opened"] == 1  # the Spanish one
    assert [(e.conversation_id, e.reason) for e in db.session.scalars(select(Escalation))] == [(es.id, "no_speaker")]


def test_a_claimed_conversation_has_no_speaker_alert_to_keep(live_app, app_ctx, cfg):
    people = _people(sam="en")
    conv = text(live_app, "necesito ayuda por favor, estoy muy asustada", "+15550107013")
    after = cfg["ESCALATE_NO_SPEAKER_SECONDS"]
    assert escalation.sweep(conv.waiting_since + timedelta(seconds=after + 1))["opened"] == 1
    conversations.claim(conv.id, people["sam"])  # language is an order, never a limit
    escalation.sweep(conv.waiting_since + timedelta(seconds=after + 2))
    [esc] = db.session.scalars(select(Escalation)).all()
    db.session.refresh(esc)
    assert esc.state == "resolved"


# ---- an adult corrects the language -------------------------------------------------------------------

def _correct(conversation_id, code, user):
    conv = language_override.set_language(conversation_id, code, user)
    db.session.expire_all()
    return conv


def test_an_adult_corrects_a_wrong_language_and_the_no_speaker_alert_ends(live_app, app_ctx, cfg):
    people = _people(sam="en")
    conv = text(live_app, "necesito ayuda por favor, estoy muy asustada", "+15550107030")  # detected Spanish
    after = cfg["ESCALATE_NO_SPEAKER_SECONDS"]
    assert escalation.sweep(conv.waiting_since + timedelta(seconds=after + 1))["opened"] == 1
    _correct(conv.id, "en", people["dana"])
    conv = db.session.get(Conversation, conv.id)
    assert conv.language == "en" and payloads.conversation(conv)["language_name"] == "English"
    escalation.sweep(conv.waiting_since + timedelta(seconds=after + 2))
    [esc] = db.session.scalars(select(Escalation)).all()
    assert esc.state == "resolved"  # every volunteer on shift reads English
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.language")).all()
    assert (event.actor_id, event.target_id, event.details) == (people["dana"].id, conv.id,
                                                               {"language": "en", "previous": "es"})
    _correct(conv.id, "en", people["dana"])  # no change, nothing recorded
    assert db.session.query(AuditEvent).filter(AuditEvent.action == "conversation.language").count() == 1


def test_an_undecided_conversation_can_be_set_and_bad_choices_are_refused(live_app, app_ctx):
    people = _people(sam="en")
    conv = text(live_app, "😭", "+15550107031")
    assert conv.language is None
    assert _correct(conv.id, "es", people["dana"]).language == "es"
    for code in ("fr", "", None):
        with pytest.raises(conversations.ConversationError, match="Choose English or Spanish"):
            _correct(conv.id, code, people["dana"])
    with pytest.raises(conversations.ConversationError, match="does not exist"):
        _correct(999999, "en", people["dana"])
    conversations.close(db.session.get(Conversation, conv.id), people["dana"])
    with pytest.raises(conversations.ConversationError, match="has ended"):
        _correct(conv.id, "en", people["dana"])


def test_postgres_language_correction(live_app, pg_app):
    pg_app.extensions["celery"] = live_app.app.extensions["celery"]
    with pg_app.app_context():
        people = _people(sam="en")
        conv = receive_inbound("+15550107032", "necesito ayuda por favor, estoy muy asustada", new_sid()).conversation
        assert language_override.set_language(conv.id, "en", people["dana"]).language == "en"
        db.session.expire_all()
        assert db.session.get(Conversation, conv.id).language == "en"
        db.session.remove()


def test_postgres_no_speaker_escalation(live_app, pg_app):
    # The sweep times its next run through Celery: the live app's (eager) Celery, as a worker has one.
    pg_app.extensions["celery"] = live_app.app.extensions["celery"]
    with pg_app.app_context():
        people = _people(sam="en", lu="es")
        people["lu"].on_shift = False
        db.session.commit()
        conv = receive_inbound("+15550107020", "necesito ayuda por favor, estoy muy asustada", new_sid()).conversation
        db.session.refresh(conv)
        assert conv.language == "es"
        _check_no_speaker_escalation(conv, people, pg_app.config)
        db.session.remove()


# ---- the order a volunteer is offered the queue in ---------------------------------------------------

def offer_order(queue, languages):
    proc = subprocess.run(["node", "-e", "const r = require(process.argv[1]); const a = JSON.parse("
                           "require('fs').readFileSync(0, 'utf8')); console.log(JSON.stringify("
                           "r.offerOrder(a.queue, a.languages).map((c) => c.id)))", str(ROUTING_JS)],
                          input=json.dumps({"queue": queue, "languages": languages}), capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH; cannot run routing.js")
def test_risk_orders_first_then_language_then_the_lines_order():
    # The server's order: risk score, then wait. Ids say where each row came.
    queue = [{"id": 1, "risk_level": "high", "language": "en"},
             {"id": 2, "risk_level": "high", "language": "es"},
             {"id": 3, "risk_level": "medium", "language": "en"},
             {"id": 4, "risk_level": "low", "language": "en"},
             {"id": 5, "risk_level": "low", "language": "es"},
             {"id": 6, "risk_level": "none", "language": "en"},
             {"id": 7, "risk_level": "none", "language": None},
             {"id": 8, "risk_level": "none", "language": "es"}]
    assert offer_order(queue, ["en"]) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert offer_order(queue, ["es"]) == [2, 1, 3, 5, 4, 8, 7, 6]  # unknown counts as a match, after Spanish
    assert offer_order(queue, ["en", "es"]) == [2, 1, 3, 5, 4, 8, 6, 7]  # bilingual: the Spanish texters first
    assert offer_order(queue, []) == [1, 2, 3, 4, 5, 7, 6, 8]


# ---- profiles ---------------------------------------------------------------------------------------

def test_an_admin_sets_a_volunteers_languages_and_they_see_them(live_app, app_ctx):
    people = on_shift(PASSWORD, ada="admin", sam="volunteer")
    admin = Browser(live_app.base_url)
    sign_in(admin, "ada@example.org", PASSWORD)
    page = admin.get(f"/admin/users/{people['sam'].id}")
    assert 'name="languages"' in page.text and "Spanish" in page.text
    form = {"csrf_token": csrf_token(admin, f"/admin/users/{people['sam'].id}"), "name": "Sam", "role": "volunteer",
            "active": "on", "capacity": "2", "pager_phone": "", "languages": ["", "en", "es"]}
    assert admin.post(f"/admin/users/{people['sam'].id}", data=form).status_code in (200, 303)
    db.session.expire_all()
    assert db.session.get(User, people["sam"].id).languages == "en es"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "languages_change"))
    assert payloads.me(db.session.get(User, people["sam"].id))["languages"] == ["en", "es"]
    none = {**form, "csrf_token": csrf_token(admin, f"/admin/users/{people['sam'].id}"), "languages": [""]}
    admin.post(f"/admin/users/{people['sam'].id}", data=none)
    db.session.expire_all()
    assert db.session.get(User, people["sam"].id).languages == "en es"  # at least one: refused
    invite = {"csrf_token": csrf_token(admin, "/admin/users"), "name": "Lu", "email": "lu@example.org",
              "role": "volunteer", "capacity": "2", "pager_phone": "", "languages": ["", "es"]}
    assert admin.post("/admin/users", data=invite).status_code == 200  # the invite link page
    assert db.session.scalar(select(User.languages).where(User.email == "lu@example.org")) == "es"
    sam = Browser(live_app.base_url)
    sign_in(sam, "sam@example.org", PASSWORD)
    assert "You answer in English and Spanish." in sam.get("/console").text
