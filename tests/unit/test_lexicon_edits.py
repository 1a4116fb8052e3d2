"""Admins' lexicon edits (textline/triage/lexicon_edits.py, what_if.py): the preview on labelled texts,
saving (audited, validated), removing, and an edit reaching another web process without a restart."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import inbound_params, post_signed
from tests.support.web import Browser, sign_in
from textline.extensions import db
from textline.models import (
    FALSE_ALARM, NEEDED, AuditEvent, Conversation, LexiconEdit, Message, RiskLabel, Texter, User, utcnow,
)
from textline.ops.followed_version import UNSET
from textline.redis_store import get_redis
from textline.safety.risk import load_lexicon, score_text
from textline.safety.risk.scorer import use_lexicon
from textline.triage import lexicon_edits, what_if
from textline.triage.lexicon_edits import VERSION_KEY

# A phrase no lexicon has: only the edit can catch it.
NEW = {"label": "zorbly blarg", "category": "suicide_self_harm", "weight": 80, "phrases": ["zorbly blarg"]}
FORM = {"label": "zorbly blarg", "category": "suicide_self_harm", "weight": "80", "phrases": "zorbly blarg\n"}
# The packaged "kill myself" entry, re-weighted to almost nothing.
WEAKER = {"label": "kill myself", "category": "suicide_self_harm", "weight": 1, "phrases": ["kill myself"]}


@pytest.fixture(autouse=True)
def packaged_again():
    """Every other test in this process scores with the packaged lexicon."""
    yield
    use_lexicon(load_lexicon())
    lexicon_edits._followed.forget()
    lexicon_edits._seen.update(compiling=UNSET)


def _conv(n: int, texts: list[str], wrap_risk: str | None = None) -> tuple[Conversation, list[Message]]:
    now = utcnow() - timedelta(days=1)
    conv = Conversation(texter=Texter(phone_hash=f"{n:064d}", alias=f"Texter {n:04d}"), status="closed",
                        opened_at=now, queued_at=now, closed_at=now, risk_level="none", risk_reasons=[],
                        disposition={"outcome": "supported", "risk": wrap_risk} if wrap_risk else None)
    msgs = [Message(conversation=conv, direction="in", author_kind="texter", body=t, status="received")
            for t in texts]
    db.session.add_all([conv, *msgs])
    db.session.flush()
    return conv, msgs


@pytest.fixture
def labelled(app_ctx):
    adult = make_user(db.session, "ada@example.org", "admin")
    a, a_texts = _conv(1, ["zorbly blarg tonight", "i will kill myself"])
    db.session.add(RiskLabel(conversation_id=a.id, verdict=NEEDED, by_id=adult.id))   # the whole conversation
    b, _ = _conv(2, ["my zorbly blarg broke"], wrap_risk="none")                       # the volunteer: ordinary
    _conv(3, ["zorbly blarg"])                                                          # no label: not counted
    d, d_texts = _conv(4, ["i will kill myself"])
    db.session.add(RiskLabel(conversation_id=d.id, message_id=d_texts[0].id, verdict=FALSE_ALARM, by_id=adult.id))
    db.session.commit()
    return {"a": a_texts, "b": b, "d": d_texts}


def test_the_preview_lists_what_a_new_entry_would_catch_and_flag(labelled):
    result = what_if.preview(NEW)
    assert result.texts == 4
    assert [(t.body, t.before, t.after) for t in result.caught] == [("zorbly blarg tonight", "none", "high")]
    assert [(t.body, t.verdict) for t in result.new_alarms] == [("my zorbly blarg broke", FALSE_ALARM)]
    assert result.lost == result.quieted == result.new_flags == []
    assert score_text("zorbly blarg").level == "none"  # a preview changes nothing live


def test_the_preview_of_a_weaker_entry_lists_what_it_would_no_longer_catch(labelled):
    result = what_if.preview(WEAKER)
    assert [(t.message_id, t.before, t.after) for t in result.lost] == [(labelled["a"][1].id, "high", "none")]
    assert [t.message_id for t in result.quieted] == [labelled["d"][0].id]
    assert result.caught == result.new_alarms == []


# Seconds for a request that compiles the lexicon (a preview, a save, a removal): about 3 s of CPU on a quiet
# machine, many times that on a busy one (tests/integration/test_scale_out.py saw a save pass 15 s at load 8.6).
COMPILES = 60


def _admin(live_app) -> Browser:
    browser = Browser(live_app.base_url)
    sign_in(browser, "ada@example.org")
    return browser


def test_saving_is_audited_and_scores_texts_at_once(live_app, labelled):
    browser = _admin(live_app)
    page = browser.post("/admin/lexicon/preview", data={**FORM, "csrf_token": browser.csrf_token("/admin/lexicon")},
                        timeout=COMPILES)
    assert page.status_code == 200 and "zorbly blarg tonight" in page.text
    assert "1</strong>\n      newly caught" in page.text
    saved = browser.post("/admin/lexicon", data={**FORM, "csrf_token": browser.csrf_token("/admin/lexicon")},
                         timeout=COMPILES)
    assert saved.status_code == 303
    db.session.expire_all()
    assert [e.entry for e in db.session.scalars(select(LexiconEdit))] == [NEW]
    events = [(e.action, e.details) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("lexicon.%")).order_by(AuditEvent.id))]
    assert events[0][0] == "lexicon.preview" and events[0][1]["caught"] == 1 and events[0][1]["new_alarms"] == 1
    assert events[1] == ("lexicon.edit", {"entry": NEW, "previous": None, "replaces_packaged": False})
    assert get_redis().get(VERSION_KEY) == "1"
    # A texter's next text is scored with it: through the webhook, in this process.
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, "+15550108888", "zorbly blarg"),
                live_app.auth_token)
    conv = db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))
    assert conv.risk_level == "high" and any("zorbly blarg" in r for r in conv.risk_reasons)
    # A process that has not seen the edit yet (as the others are) learns of it in the webhook itself.
    use_lexicon(load_lexicon())
    lexicon_edits._followed.seen, lexicon_edits._followed.checked = None, float("-inf")
    levels = []
    for n in range(40):
        post_signed(live_app.base_url, "/sms/inbound",
                    inbound_params(live_app.account_sid, f"+1555011{n:04d}", "zorbly blarg"), live_app.auth_token)
        db.session.expire_all()
        levels.append(db.session.scalar(select(Conversation.risk_level).order_by(Conversation.id.desc())))
        if levels[-1] == "high":
            break
        time.sleep(0.25)
    assert levels[-1] == "high", levels
    # Removing it: audited, and the packaged lexicon applies again.
    edit_id = db.session.scalar(select(LexiconEdit.id))
    assert browser.post(f"/admin/lexicon/{edit_id}/remove", data={"csrf_token": browser.csrf_token("/admin/lexicon")},
                        timeout=COMPILES).status_code == 303
    assert score_text("zorbly blarg").level == "none"
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "lexicon.edit_remove"
    assert get_redis().get(VERSION_KEY) == "2"


def test_an_entry_that_does_not_compile_is_refused_with_the_reason(live_app, labelled):
    browser = _admin(live_app)
    for path in ("/admin/lexicon", "/admin/lexicon/preview"):
        token = browser.csrf_token("/admin/lexicon")
        page = browser.post(path, data={**FORM, "patterns": "(unclosed", "csrf_token": token}, timeout=COMPILES)
        assert page.status_code == 400 and "pattern" in page.text and 'data-testid="lexicon-error"' in page.text
    token = browser.csrf_token("/admin/lexicon")
    page = browser.post("/admin/lexicon", data={**FORM, "weight": "heavy", "csrf_token": token}, timeout=COMPILES)
    assert page.status_code == 400 and "weight must be a number" in page.text
    assert db.session.scalars(select(LexiconEdit)).all() == []
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("lexicon.%"))).all() == []


def test_changing_a_packaged_entry_starts_from_it_and_says_it_replaces_it(live_app, labelled):
    browser = _admin(live_app)
    page = browser.get("/admin/lexicon?category=suicide_self_harm&label=kill+myself")
    assert 'data-testid="replacing"' in page.text and "killing myself" in page.text  # its phrases, to edit


OTHER_PROCESS = textwrap.dedent("""
    import sys, time
    from textline.app import create_app
    from textline.config import load_config
    from textline.safety.risk import score_text
    from textline.triage import lexicon_edits
    app = create_app(load_config(dict(a.split("=", 1) for a in sys.argv[1:])))
    with app.app_context():
        lexicon_edits.refresh(force=True)  # as textline/wsgi.py does when a web process starts
        print("before", score_text("zorbly blarg").level, flush=True)
        sys.stdin.readline()  # the edit is saved in the test's process now
        deadline = time.monotonic() + 120
        while score_text("zorbly blarg").level != "high" and time.monotonic() < deadline:
            lexicon_edits.refresh()  # what every webhook does before scoring
            time.sleep(0.2)
        print("after", score_text("zorbly blarg").level, flush=True)
""")


def test_an_edit_reaches_another_web_process_without_a_restart(live_app, labelled):
    cfg = live_app.app.config
    env = {"DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": cfg["REDIS_URL"], "SECRET_KEY": "test-secret",
           "PHONE_HASH_KEY": "test-phone-key", "TEXTLINE_INSTANCE_DIR": cfg["INSTANCE_DIR"]}
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, *(f"{k}={v}" for k, v in env.items())],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert other.stdout.readline().split() == ["before", "none"]
        lexicon_edits.save(NEW, db.session.scalar(select(User)))
        other.stdin.write("go\n")
        other.stdin.flush()
        assert other.stdout.readline().split() == ["after", "high"]
    finally:
        other.kill()
        other.wait()
