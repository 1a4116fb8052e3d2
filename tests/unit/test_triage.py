"""Risk labels from the line's adults (textline/triage/labels.py) and the Triage page's numbers
(textline/triage/measures.py), checked against a hand-counted history on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import ConsoleClient, inbound_params, login, post_signed
from tests.support.web import Browser, sign_in
from textline.extensions import db
from textline.insights.report import Period
from textline.models import (
    FALSE_ALARM, NEEDED, AuditEvent, Conversation, Escalation, Message, RiskLabel, Texter, utcnow,
)
from textline.ops import retention
from textline.texting.conversations import ConversationError
from textline.triage import labels, measures

LA = ZoneInfo("America/Los_Angeles")  # data/hours.yaml
UTC = timezone.utc
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), LA)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=LA).astimezone(UTC)


def _conv(n: int, opened: datetime, level: str, texts: list[str], wrap_risk: str | None = None,
          training=False) -> tuple[Conversation, list[Message]]:
    """A closed conversation whose texter sent one text per level in `texts`, a minute apart."""
    conv = Conversation(texter=Texter(phone_hash=f"{n:064d}", alias=f"Texter {n:04d}"), status="closed",
                        opened_at=opened, queued_at=opened, closed_at=opened + timedelta(hours=1),
                        risk_level=level, risk_reasons=[], training=training,
                        disposition={"outcome": "supported", "risk": wrap_risk, "by": "volunteer"} if wrap_risk else None)
    db.session.add(conv)
    msgs = [Message(conversation=conv, direction="in", author_kind="texter", body=f"text {i}", status="received",
                    risk={"score": 0, "level": lvl, "reasons": []}, created_at=opened + timedelta(minutes=i))
            for i, lvl in enumerate(texts)]
    db.session.add_all(msgs)
    db.session.add(Message(conversation=conv, direction="out", author_kind="volunteer", body="hi", status="sent",
                           created_at=opened + timedelta(minutes=30)))
    db.session.flush()
    return conv, msgs


def _alert(conv: Conversation, opened: datetime, acknowledged: datetime | None) -> None:
    db.session.add(Escalation(conversation_id=conv.id, reason="risk", episode="1", opened_at=opened,
                              acknowledged_at=acknowledged))


def _label(conv, msg, verdict, adult) -> None:
    db.session.add(RiskLabel(conversation_id=conv.id, message_id=msg.id if msg else None, verdict=verdict,
                             by_id=adult.id))


def history() -> dict:
    """March 2026, counted by hand (the numbers are in test_numbers_are_the_hand_counted_ones)."""
    adult = make_user(db.session, "dana@example.org", "supervisor")
    c = {}
    # 1: alerted; an adult says it needed an adult (and its high text too). Acknowledged 60 s after the
    # high text, which came 1 minute after an ordinary one.
    c[1], m = _conv(1, at(2, 18), "high", ["none", "high"])
    _label(c[1], None, NEEDED, adult)
    _label(c[1], m[1], NEEDED, adult)
    _alert(c[1], m[1].created_at, m[1].created_at + timedelta(seconds=60))
    # 2: alerted; an adult calls its high text a false alarm. Acknowledged after 120 s.
    c[2], m = _conv(2, at(3, 18), "high", ["high"])
    _label(c[2], m[0], FALSE_ALARM, adult)
    _alert(c[2], m[0].created_at, m[0].created_at + timedelta(seconds=120))
    # 3: review only; an adult says its (medium) text needed an adult: a miss.
    c[3], m = _conv(3, at(4, 18), "medium", ["medium"])
    _label(c[3], m[0], NEEDED, adult)
    # 4: nothing flagged; the volunteer assessed high risk: a miss, by the wrap-up.
    c[4], _ = _conv(4, at(5, 18), "none", ["none"], wrap_risk="high")
    # 5: alerted; the volunteer said low but an adult said needed (the adult wins). Never acknowledged.
    c[5], m = _conv(5, at(6, 18), "high", ["high"], wrap_risk="low")
    _label(c[5], None, NEEDED, adult)
    _alert(c[5], m[0].created_at, None)
    # 6: nothing flagged, the volunteer assessed no risk: ordinary, labelled.
    c[6], _ = _conv(6, at(7, 18), "none", ["none"], wrap_risk="none")
    # 7: review, no label: ordinary, flagged.
    c[7], _ = _conv(7, at(8, 18), "medium", ["medium"])
    # 8: alerted, no label: ordinary, alerted. The alert was raised 5 s after its text (it waited in the spool);
    # the time counts from the text: 300 s.
    c[8], m = _conv(8, at(9, 18), "high", ["high"])
    _alert(c[8], m[0].created_at + timedelta(seconds=5), m[0].created_at + timedelta(seconds=300))
    # 9: alerted; the volunteer said medium, which is no label: ordinary. Acknowledged after 30 s.
    c[9], m = _conv(9, at(10, 18), "high", ["high"], wrap_risk="medium")
    _alert(c[9], m[0].created_at, m[0].created_at + timedelta(seconds=30))
    # 12: alerted, labelled needed by an adult and high by the volunteer, then retention erased its words:
    # no label any more, so ordinary. Acknowledged after 90 s.
    c[12], m = _conv(12, at(11, 18), "high", ["high"], wrap_risk="high")
    _label(c[12], None, NEEDED, adult)
    _alert(c[12], m[0].created_at, m[0].created_at + timedelta(seconds=90))
    # Not counted: a training conversation, and one opened in April.
    c[10], m = _conv(10, at(12, 18), "high", ["high"], training=True)
    _label(c[10], None, NEEDED, adult)
    _alert(c[10], m[0].created_at, m[0].created_at + timedelta(seconds=5))
    c[11], m = _conv(11, at(2, 18, month=4), "none", ["none"], wrap_risk="high")
    db.session.commit()
    retention.erase_conversation(c[12], utcnow())
    db.session.commit()
    return {n: conv.id for n, conv in c.items()}


def check_numbers(ids: dict) -> None:
    t = measures.build(MARCH)
    assert [r.id for r in t.rows] == [ids[n] for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 12)]
    assert t.measure(measures.ALERT) == {
        "hits": 2, "needed": 4, "recall": 0.5, "right": 2, "decided": 3, "precision": 2 / 3,
        "ordinary_hits": 4, "ordinary": 6, "ordinary_share": 4 / 6}
    assert t.measure(measures.FLAG) == {
        "hits": 3, "needed": 4, "recall": 0.75, "right": 3, "decided": 4, "precision": 0.75,
        "ordinary_hits": 5, "ordinary": 6, "ordinary_share": 5 / 6}
    assert t.text_measure(measures.ALERT) == {"hits": 1, "needed": 2, "recall": 0.5, "right": 1, "decided": 2,
                                              "precision": 0.5}
    assert t.text_measure(measures.FLAG) == {"hits": 2, "needed": 2, "recall": 1.0, "right": 2, "decided": 3,
                                             "precision": 2 / 3}
    assert [(r.id, r.source) for r in t.misses()] == [(ids[3], "adult"), (ids[4], "volunteer")]
    assert [r.id for r in t.false_alarms()] == [ids[2]]
    # Acknowledged after 30, 60, 90, 120, 300 s: nearest rank p50 = the 3rd, p90 = the 5th.
    assert t.ack() == {"acknowledged": 5, "unacknowledged": 1, "p50": 90.0, "p90": 300.0}


def test_numbers_are_the_hand_counted_ones(app_ctx):
    check_numbers(history())


def test_numbers_are_the_same_on_postgresql(pg_app):
    with pg_app.app_context():
        check_numbers(history())


def test_erasing_a_texter_removes_their_labels(app_ctx):
    ids = history()
    conv = db.session.get(Conversation, ids[1])
    assert db.session.scalar(select(RiskLabel.id).where(RiskLabel.conversation_id == conv.id)) is not None
    retention.erase_texter(conv.texter)
    assert db.session.scalars(select(RiskLabel).where(RiskLabel.conversation_id == conv.id)).all() == []
    assert labels.summary(conv) == {"conversation": None, "messages": {}, "wrap_up": None}


def test_retention_removes_the_labels_with_the_words(app_ctx):
    ids = history()
    before = db.session.scalar(select(db.func.count()).select_from(RiskLabel))
    assert before == 6  # c1 twice, c2, c3, c5, c10 (c12's went with its words)
    retention.apply_retention(days=1)  # every conversation closed long ago
    assert db.session.scalar(select(db.func.count()).select_from(RiskLabel)) == 0
    assert measures.build(MARCH).labelled() == []  # the wrap-ups of erased conversations are no labels either
    assert ids


# ---- labelling ------------------------------------------------------------------------------------

@pytest.fixture
def one(app_ctx):
    adult = make_user(db.session, "dana@example.org", "supervisor")
    volunteer = make_user(db.session, "sam@example.org")
    conv, msgs = _conv(1, utcnow(), "high", ["none", "high"])
    other, _ = _conv(2, utcnow(), "none", ["none"])
    db.session.commit()
    return adult, volunteer, conv, msgs, other


def _audit():
    return [(e.action, e.target_id, e.details) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("risk_label.%")).order_by(AuditEvent.id))]


def test_one_click_sets_changes_and_clears_a_label_each_audited(one):
    adult, _, conv, msgs, _ = one
    assert labels.set_label(conv.id, msgs[1].id, NEEDED, adult)["messages"] == {str(msgs[1].id): NEEDED}
    assert labels.set_label(conv.id, None, FALSE_ALARM, adult)["conversation"] == FALSE_ALARM
    labels.set_label(conv.id, msgs[1].id, FALSE_ALARM, adult)
    labels.set_label(conv.id, msgs[1].id, FALSE_ALARM, adult)  # the same again changes nothing
    summary = labels.set_label(conv.id, None, None, adult)
    assert summary == {"conversation": None, "messages": {str(msgs[1].id): FALSE_ALARM}, "wrap_up": None}
    assert db.session.scalar(select(db.func.count()).select_from(RiskLabel)) == 1
    m = msgs[1].id
    assert _audit() == [
        ("risk_label.set", conv.id, {"message_id": m, "verdict": NEEDED, "previous": None}),
        ("risk_label.set", conv.id, {"message_id": None, "verdict": FALSE_ALARM, "previous": None}),
        ("risk_label.set", conv.id, {"message_id": m, "verdict": FALSE_ALARM, "previous": NEEDED}),
        ("risk_label.clear", conv.id, {"message_id": None, "verdict": None, "previous": FALSE_ALARM}),
    ]


@pytest.mark.parametrize("what, code", [
    ("volunteer", "forbidden"), ("outbound", "refused"), ("elsewhere", "not_found"), ("verdict", "refused"),
    ("erased", "erased"), ("nonsense", "not_found"),
])
def test_labels_that_cannot_be_given_are_refused(one, what, code):
    adult, volunteer, conv, msgs, other = one
    who, conv_id, msg_id, verdict = adult, conv.id, msgs[0].id, NEEDED
    if what == "volunteer":
        who = volunteer
    elif what == "outbound":
        msg_id = db.session.scalar(select(Message.id).where(Message.conversation_id == conv.id,
                                                             Message.direction == "out"))
    elif what == "elsewhere":
        conv_id = other.id
    elif what == "verdict":
        verdict = "maybe"
    elif what == "erased":
        retention.erase_conversation(conv, utcnow())
        db.session.commit()
    else:
        msg_id = "drop table"
    with pytest.raises(ConversationError) as refused:
        labels.set_label(conv_id, msg_id, verdict, who)
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(RiskLabel)) == 0
    assert _audit() == []


def test_the_wrap_up_is_a_label(one):
    _, _, conv, _, _ = one
    for risk, verdict in (("high", NEEDED), ("low", FALSE_ALARM), ("none", FALSE_ALARM), ("medium", None)):
        conv.disposition = {"outcome": "supported", "risk": risk}
        assert labels.summary(conv)["wrap_up"] == verdict


def test_an_adult_labels_from_the_dashboard_and_sees_it_when_the_transcript_opens(live_app, app_ctx):
    make_user(db.session, "dana@example.org", "supervisor")
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, "+15550107777", "hi"),
                live_app.auth_token)
    conv_id = db.session.scalar(select(Conversation.id))
    msg_id = db.session.scalar(select(Message.id))
    dana = ConsoleClient(live_app.base_url, login(live_app.base_url, "dana@example.org", "a-long-password"))
    try:
        dana.wait_for("hello")
        answer = dana.call("risk_label", {"conversation_id": conv_id, "message_id": msg_id, "verdict": NEEDED})
        assert answer["ok"] and answer["labels"]["messages"] == {str(msg_id): NEEDED}
        assert dana.call("risk_label", {"conversation_id": conv_id, "verdict": "false_alarm"})["ok"]
        assert dana.call("watch", {"conversation_id": conv_id})["labels"] == {
            "conversation": FALSE_ALARM, "messages": {str(msg_id): NEEDED}, "wrap_up": None}
    finally:
        dana.close()


# ---- the page ---------------------------------------------------------------------------------------

def test_the_page_shows_the_numbers_and_links_each_miss_to_its_transcript(live_app, app_ctx):
    ids = history()
    browser = Browser(live_app.base_url)
    sign_in(browser, "dana@example.org")
    page = browser.get("/supervise/triage?from=2026-03-01&to=2026-03-31")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="alert-recall">50% <span class="muted small">(2 of 4)' in html
    assert 'data-testid="alert-precision">67% <span class="muted small">(2 of 3)' in html
    assert 'data-testid="alert-ordinary">67% <span class="muted small">(4 of 6)' in html
    assert 'data-testid="ack-p50">1.5 min' in html and 'data-testid="ack-p90">5.0 min' in html
    for n in (3, 4, 2):
        assert f'href="/supervise?conversation={ids[n]}">Texter {n:04d}</a>' in html
    assert "Texter 0012" not in html.split('id="misses-title"')[1]  # erased: no label, so no miss


def test_the_page_defaults_to_the_last_30_days_and_refuses_bad_dates(live_app, app_ctx):
    make_user(db.session, "dana@example.org", "supervisor")
    browser = Browser(live_app.base_url)
    sign_in(browser, "dana@example.org")
    today = utcnow().astimezone(LA).date()
    page = browser.get("/supervise/triage")
    assert f'value="{today - timedelta(days=29)}"' in page.text and f'value="{today}"' in page.text
    bad = browser.get("/supervise/triage?from=2026-03-09&to=2026-03-01")
    assert bad.status_code == 400 and "after the end" in bad.text
