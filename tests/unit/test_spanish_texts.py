"""Spanish (issue 15, part 2): every automatic text and the resource directory in Spanish, chosen per
conversation (textline/texting/wording.py), and the Spanish carrier keywords (textline/texting/keywords.py).

Texts arrive as signed webhooks on SQLite (the live app) and through receive_inbound on PostgreSQL; what the
texter's phone got is read back from the fake Twilio. The conversation's language is set in SQL where a test
needs it known, as the language detection (another part of the issue) fills it.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from tests.support.safety import CLOSED_SCHEDULE, write_hours
from tests.support.state import make_user
from tests.support.team import on_shift
from tests.support.texting import new_sid, phone_live, text_live, wrap_up
from tests.support.web import Browser, csrf_token
from textline.blocklist import blocks
from textline.extensions import db
from textline.models import Conversation, Message, SurveyResponse, Texter, utcnow
from textline.safety import auto_texts
from textline.safety.hours import Schedule
from textline.safety.resources import ResourceError, default_directory, load_resources
from textline.texting import conversations, inbound_rules, queue, survey, wording
from textline.texting.inbound import Inbound, receive_inbound
from textline.texting.keywords import Keyword, match
from textline.texting.sms_segments import count

TEXTER = "+15550109901"
HIGH = "i have the pills in my hand and i want to kill myself tonight"
PASSWORD = "a-long-password"
KINDS = ("welcome", "help_text", "crisis", "off_hours", "blocked", "opt_out_confirmation", "opt_in_confirmation")


def text(live_app, body, number=TEXTER) -> Conversation:
    return text_live(live_app, body, number)


def phone(live_app, number=TEXTER) -> list[str]:
    return phone_live(live_app, number)


def speaks(conv: Conversation, language: str | None) -> None:
    """The conversation's language as the detection records it."""
    db.session.execute(update(Conversation).where(Conversation.id == conv.id).values(language=language))
    db.session.commit()


def kinds(conv_id: int) -> list[str]:
    return db.session.scalars(select(Message.kind).where(Message.conversation_id == conv_id,
                                                         Message.direction == "out").order_by(Message.id)).all()


# ---- the keywords ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, keyword", [
    ("PARAR", Keyword.OPT_OUT), ("parar", Keyword.OPT_OUT), ("Parar.", Keyword.OPT_OUT), ("¡Alto!", Keyword.OPT_OUT),
    ("alto", Keyword.OPT_OUT), ("DETENER", Keyword.OPT_OUT), ("cancelar", Keyword.OPT_OUT), ("Baja", Keyword.OPT_OUT),
    ("COMENZAR", Keyword.OPT_IN), ("iniciar", Keyword.OPT_IN), ("AYUDA", Keyword.HELP), ("ayuda", Keyword.HELP),
    ("Ayúda", Keyword.HELP), ("¿ayuda?", Keyword.HELP), (" AYUDA \n", Keyword.HELP),
])
def test_spanish_keywords_are_honoured_in_any_case_and_with_or_without_accents(body, keyword):
    assert match(body) is not None and (match(body).keyword, match(body).language) == (keyword, "es")


@pytest.mark.parametrize("body", ["sí", "SI", "Sí.", "si"])
def test_si_resubscribes_only_an_opted_out_number(body):
    assert match(body) is None  # "¿estás a salvo?" - "sí": an answer
    assert (match(body, opted_out=True).keyword, match(body, opted_out=True).language) == (Keyword.OPT_IN, "es")


@pytest.mark.parametrize("body", [
    "ayuda por favor", "necesito ayuda", "ayudame", "ya no puedo mas", "para", "basta", "no más", "no mas",
    "quiero que todo se detenga", "parar de sufrir", "alto ahi", "info por favor",
])
def test_spanish_sentences_and_distress_words_reach_a_volunteer_as_they_are(body):
    assert match(body) is None


@pytest.mark.parametrize("body, keyword", [("STOP", Keyword.OPT_OUT), ("start", Keyword.OPT_IN), ("HELP", Keyword.HELP),
                                           ("info", Keyword.HELP)])
def test_english_keywords_are_english(body, keyword):
    assert (match(body).keyword, match(body).language) == (keyword, "en")


# ---- the language rule ----------------------------------------------------------------------------

@pytest.mark.parametrize("conversation, keyword, expected", [
    ("es", None, "es"), ("en", None, "en"), (None, None, "en"), (None, "es", "es"), ("en", "es", "en"),
    ("es", "en", "es"), ("fr", None, "en"), ("fr", "es", "es"), ("", None, "en"),
])
def test_the_conversation_decides_then_the_keyword_then_english(conversation, keyword, expected):
    assert wording.language_for(conversation, keyword) == expected


# ---- the words and their cost ---------------------------------------------------------------------

def test_every_automatic_text_and_the_survey_exist_in_spanish_and_differ_from_english(app_ctx):
    for key in wording.catalogue():
        assert wording.default(key, "es") != wording.default(key, "en"), key
    for name in KINDS:
        assert getattr(auto_texts, name)("es") != getattr(auto_texts, name)("en"), name
        assert getattr(auto_texts, name)("xx") == getattr(auto_texts, name)("en"), name  # unknown: English


# The segments each text costs (printed), off-hours with the next opening of the schedule the tests use.
# Each Spanish text costs no more segments than the English one, except the off-hours text, which the accent
# in "hora del Pacífico" makes UCS-2 (70 characters a segment).
def test_segment_counts_of_every_text_in_both_languages(app_ctx, cfg, tmp_path, capsys):
    cfg["HOURS"] = str(write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE.replace(
        "label: Pacific", "label: Pacific\nlabel_es: hora del Pacífico")))
    texts = {name: {lang: getattr(auto_texts, name)(lang) for lang in ("en", "es")} for name in KINDS}
    texts.update({key: {lang: wording.text_for(key, lang) for lang in ("en", "es")}
                  for key in ("survey", "survey_thanks")})
    rows = {name: {lang: count(t) for lang, t in by_lang.items()} for name, by_lang in texts.items()}
    with capsys.disabled():
        print()
        for name, by_lang in rows.items():
            print(f"  {name:22} " + " | ".join(f"{lang} {c.encoding} {c.units:3} units {c.segments} seg"
                                              for lang, c in by_lang.items()))
    for name, by_lang in rows.items():
        en, es = by_lang["en"], by_lang["es"]
        if name == "off_hours":
            assert es.encoding == "UCS-2" and es.segments <= 7, es
        else:
            assert es.encoding == "GSM-7", (name, es)  # worded to avoid a, i, o, u with accents
            assert es.segments <= en.segments, (name, en, es)
    assert rows["crisis"]["es"].segments == 1  # the text a teen at risk gets: one SMS


def test_spanish_next_opening_is_said_in_spanish():
    s = Schedule.from_dict({"timezone": "America/Los_Angeles", "weekly": [{"days": "daily", "open": "18:00",
                                                                            "close": "22:00"}]})
    la = s.tz
    assert s.describe_next_opening(datetime(2026, 6, 3, 12, 0, tzinfo=la), "es") == \
        "hoy a las 6 p. m. (hora del Pacífico)"
    assert s.describe_next_opening(datetime(2026, 6, 3, 23, 0, tzinfo=la), "es") == \
        "mañana a las 6 p. m. (hora del Pacífico)"
    assert s.describe_next_opening(datetime(2026, 6, 3, 23, 0, tzinfo=la), "en") == "tomorrow at 6 PM Pacific"
    one = Schedule.from_dict({"timezone": "America/New_York", "weekly": [{"days": ["mon"], "open": "13:00",
                                                                          "close": "15:00"}]})
    assert one.describe_next_opening(datetime(2026, 6, 3, 12, 0, tzinfo=one.tz), "es") == \
        "el lunes a la 1 p. m. (hora del Este)"
    assert one.describe_next_opening(datetime(2026, 6, 3, 12, 0, tzinfo=one.tz), "fr") == "Monday at 1 PM Eastern"


# ---- the resource directory -----------------------------------------------------------------------

# What each organisation publishes for Spanish speakers (sources in data/resources.yaml).
SPANISH_FACTS = {
    "988": ["988", "marca 2", "AYUDA por texto al 988", "español"],
    "crisis-text-line": ["AYUDA al 741741", "442-AYUDAME", "WhatsApp", "español"],
    "911": ["911"],
    "rainn": ["1-800-656-4673", "español"],
}


@pytest.mark.parametrize("rid", sorted(SPANISH_FACTS))
def test_the_directory_in_spanish_says_how_to_reach_each_service_in_spanish(rid):
    resource = default_directory().get(rid).localized("es")
    for phrase in SPANISH_FACTS[rid]:
        assert phrase in resource.sms_text, (rid, resource.sms_text)
    info = count(resource.sms_text)
    assert (info.encoding, info.segments) == ("GSM-7", 1), (rid, info)
    assert default_directory().get(rid).localized("en").sms_text == default_directory().get(rid).sms_text


def test_spanish_contacts_and_the_untranslated_resources_fall_back_to_english():
    contacts = {(c.kind, c.value, c.instructions) for c in default_directory().get("988").localized("es").contacts}
    assert ("call", "988", "Llama al 988 y marca 2 para español.") in contacts
    ctl = {(c.kind, c.value) for c in default_directory().get("crisis-text-line").localized("es").contacts}
    assert ("text", "741741") in ctl and ("text", "442-298-3263") in ctl  # A-Y-U-D-A-M-E on a keypad
    teenline = default_directory().get("teenline")
    assert teenline.localized("es") == teenline  # no Spanish service confirmed: English as it is
    listed = {r["id"]: r for r in default_directory().to_list()}
    assert listed["988"]["translations"]["es"]["sms_text"].startswith("Llama al 988 y marca 2")
    assert listed["teenline"]["translations"] == {}


@pytest.mark.parametrize("translation, error", [
    ("es: {id: otro}", "untranslatable"), ("es: {sms-text: Llama}", "unknown"), ("es: Llama", "mapping"),
    ("es: {contacts: []}", "non-empty"), ("es: {contacts: [{kind: fax, value: '1'}]}", "unknown contact kind"),
    ("es: {sms_text: 988}", "must be text"),
])
def test_a_broken_translation_fails_loudly(tmp_path, translation, error):
    path = tmp_path / "res.yaml"
    path.write_text("resources:\n  - id: a\n    name: A\n    sms_text: Call A.\n    contacts:\n"
                    "      - {kind: call, value: '123'}\n    translations:\n      " + translation + "\n", encoding="utf-8")
    with pytest.raises(ResourceError, match=error):
        load_resources(path)


# ---- on the inbound path (signed webhooks, SQLite) ------------------------------------------------

def test_ayuda_as_a_first_text_gets_the_spanish_help_reply_and_still_reaches_a_volunteer(live_app, app_ctx):
    conv = text(live_app, "AYUDA")
    assert phone(live_app) == [auto_texts.help_text("es")]
    assert "PARAR" in phone(live_app)[0] and "marca 2" in phone(live_app)[0] and "911" in phone(live_app)[0]
    assert conv.status == "waiting" and conv.id in queue.ordered_ids()  # as "HELP" is: queued, no welcome
    assert kinds(conv.id) == ["help"]


def test_a_spanish_keyword_decides_the_language_of_a_conversation_that_had_none(live_app, app_ctx):
    """"PARAR" alone says too little for the language detector, but it is Spanish: the conversation it
    opened is recorded as Spanish (a conversation already decided keeps its language, test below)."""
    conv = text(live_app, "PARAR")
    assert conv.language == "es"
    assert phone(live_app) == [auto_texts.opt_out_confirmation("es")]


def test_english_help_and_welcome_are_unchanged(live_app, app_ctx):
    conv = text(live_app, "HELP")
    text(live_app, "hi", number="+15550109902")
    assert phone(live_app) == [auto_texts.help_text("en")]
    assert phone(live_app, "+15550109902") == [wording.default("welcome", "en")]
    assert phone(live_app)[0].startswith("Textline: free, confidential support") and kinds(conv.id) == ["help"]


@pytest.mark.parametrize("stop_word, start_word", [("PARAR", "COMENZAR"), ("¡Alto!", "iniciar"), ("cancelar", "Sí")])
def test_spanish_stop_and_start_opt_out_and_back_in_with_spanish_confirmations(live_app, app_ctx, stop_word,
                                                                                 start_word):
    sam = on_shift(PASSWORD, sam="volunteer")["sam"]
    conv = text(live_app, "hola")
    conversations.claim(conv.id, sam)
    text(live_app, stop_word)
    db.session.expire_all()
    conv = db.session.get(Conversation, conv.id)
    assert conv.status == "closed" and conv.texter.opted_out
    assert phone(live_app)[-1] == auto_texts.opt_out_confirmation("es")
    text(live_app, "hola?")  # opted out: nothing goes back
    assert phone(live_app)[-1] == auto_texts.opt_out_confirmation("es")
    text(live_app, start_word)
    assert not db.session.scalar(select(Texter)).opted_out
    assert phone(live_app)[-1] == auto_texts.opt_in_confirmation("es")


def test_the_conversation_language_decides_even_for_an_english_keyword(live_app, app_ctx):
    conv = text(live_app, "hola, necesito hablar")
    speaks(conv, "es")
    text(live_app, "STOP")
    assert phone(live_app)[-1] == auto_texts.opt_out_confirmation("es")
    other = text(live_app, "hey", number="+15550109903")
    speaks(other, "en")
    text(live_app, "AYUDA", number="+15550109903")
    assert phone(live_app, "+15550109903")[-1] == auto_texts.help_text("en")


def test_crisis_text_in_spanish_for_a_spanish_conversation(live_app, app_ctx):
    conv = text(live_app, "hola")
    speaks(conv, "es")
    text(live_app, HIGH)
    assert kinds(conv.id)[-1] == "crisis"
    assert phone(live_app)[-1] == auto_texts.crisis("es")
    assert phone(live_app)[-1].startswith("Queremos que estés a salvo.") and "marca 2" in phone(live_app)[-1]


def test_off_hours_reply_in_spanish_says_when_in_spanish(live_app, app_ctx, cfg, tmp_path):
    cfg["HOURS"] = str(write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE))
    conv = text(live_app, "ayuda")
    assert kinds(conv.id) == ["help", "off_hours"]
    help_reply, closed = phone(live_app)
    assert help_reply == auto_texts.help_text("es") and closed == auto_texts.off_hours("es")
    assert "1 de enero a las 6 p. m. (hora del Pacífico)" in closed  # the schedule's next opening (2099-01-01)
    assert "AYUDA al 741741" in closed and "marca 2" in closed and "911" in closed
    assert conv.status == "waiting" and conv.id in queue.ordered_ids()


def test_a_blocked_spanish_texter_gets_the_daily_reply_in_spanish(live_app, app_ctx):
    dana = on_shift(PASSWORD, dana="supervisor")["dana"]
    conv = text(live_app, "hola")
    speaks(conv, "es")
    blocks.block(conv.id, dana, "spam", 1)
    text(live_app, "contesta")
    assert kinds(conv.id)[-1] == "blocked" and phone(live_app)[-1] == auto_texts.blocked("es")


def test_the_welcome_follows_the_conversation_language(live_app, app_ctx):
    """A conversation whose language is known when its first text is handled (the detection runs before the
    rules) is welcomed in it: inbound_rules.apply on real rows."""
    texter = Texter(phone_hash="e" * 64, alias="Texter EEEE")
    conv = Conversation(texter=texter, status="waiting", opened_at=utcnow(), priority=0, risk_level="none",
                        risk_reasons=[], language="es")
    msg = Message(conversation=conv, direction="in", author_kind="texter", body="hola, me siento muy sola",
                  status="received", created_at=utcnow())
    db.session.add_all([texter, conv, msg])
    db.session.flush()
    result = Inbound(conv, msg, opened=True)
    inbound_rules.apply(result, texter, {"level": "low", "score": 0, "reasons": []})
    assert [(m.kind, m.body) for m in result.outbound] == [("welcome", wording.default("welcome", "es"))]
    db.session.rollback()
    # A first text that is a Spanish opt-in word (not opted out: just a greeting) is welcomed in Spanish too.
    text(live_app, "Comenzar")
    assert phone(live_app) == [wording.default("welcome", "es")]


def test_a_deployment_can_reword_the_spanish_welcome_and_survey(live_app, app_ctx, cfg):
    cfg["WELCOME_TEXT_ES"] = "Hola, somos Textline. Llama al 911 si corres peligro."
    cfg["WELCOME_TEXT"] = "Hi from Textline. Call 911 in danger."
    text(live_app, "comenzar")
    text(live_app, "hi", number="+15550109904")
    assert phone(live_app) == ["Hola, somos Textline. Llama al 911 si corres peligro."]
    assert phone(live_app, "+15550109904") == ["Hi from Textline. Call 911 in danger."]


def test_survey_and_thanks_in_spanish_and_a_spanish_score_counts(live_app, app_ctx):
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    conv = text(live_app, "hola, ¿podemos hablar?")
    speaks(conv, "es")
    conversations.claim(conv.id, sam)
    conversations.reply(conv.id, sam, "Claro. Soy Sam.", "r-1")
    conversations.end(conv.id, sam, wrap_up(), None)
    assert phone(live_app)[-1] == wording.default("survey", "es")
    text(live_app, "cuatro de cinco")
    db.session.expire_all()
    assert db.session.scalar(select(SurveyResponse)).score == 4
    assert phone(live_app)[-1] == wording.default("survey_thanks", "es")


@pytest.mark.parametrize("body, score", [("cuatro", 4), ("Cinco!", 5), ("uno", 1), ("3 de 5", 3), ("dos de cinco", 2)])
def test_spanish_scores_parse(body, score):
    assert survey.parse_score(body) == score


def test_the_simulator_shows_spanish_automatic_texts_end_to_end(live_app, app_ctx):
    browser = Browser(live_app.base_url)
    token = csrf_token(browser, "/simulator")
    page = browser.get("/simulator").text
    assert 'data-sample="AYUDA"' in page  # the page offers Spanish texts to try
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": "AYUDA"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text
    thread = browser.get("/simulator/thread", params={"number": TEXTER}).json()["messages"]
    assert [m["body"] for m in thread] == ["AYUDA", auto_texts.help_text("es")]


# ---- PostgreSQL -----------------------------------------------------------------------------------

def test_postgres_spanish_keywords_and_texts_by_conversation_language(pg_app):
    with pg_app.app_context():
        first = receive_inbound(TEXTER, "AYUDA", new_sid())
        assert [(m.kind, m.body) for m in first.outbound] == [("help", auto_texts.help_text("es"))]
        conv = first.conversation
        speaks(conv, "es")
        high = receive_inbound(TEXTER, HIGH, new_sid())
        assert [(m.kind, m.body) for m in high.outbound] == [("crisis", auto_texts.crisis("es"))]
        stop = receive_inbound(TEXTER, "Parar", new_sid())
        assert [(m.kind, m.body) for m in stop.outbound] == [("opt_out_confirmation",
                                                             auto_texts.opt_out_confirmation("es"))]
        db.session.expire_all()
        assert db.session.scalar(select(Texter)).opted_out
        back = receive_inbound(TEXTER, "sí", new_sid())
        assert [(m.kind, m.body) for m in back.outbound] == [("opt_in_confirmation",
                                                             auto_texts.opt_in_confirmation("es"))]
        english = receive_inbound("+15550109905", "hi", new_sid())
        assert [m.body for m in english.outbound] == [wording.default("welcome", "en")]
        db.session.remove()
