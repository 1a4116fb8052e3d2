"""Duty of care (textline/duty/): report decisions owed, reminded, decided and audited; emergency records
counted in insights; both under retention, erasure and export; the adults' work list. SQLite through the live
app, and the same writes on PostgreSQL."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.support.state import PASSWORD
from tests.support.team import on_shift
from tests.support.texting import ConsoleClient, inbound_params, login, new_sid, post_signed
from tests.support.web import Browser, csrf_token, sign_in
from textline.duty import decisions, emergencies, owed, records, reminders, work_list
from textline.duty.forms import DutyError
from textline.extensions import db
from textline.insights.report import build_report, parse_period
from textline.models import AuditEvent, Conversation, EmergencyRecord, ReportDecision, utcnow
from textline.ops import retention
from textline.safety.hours import load_schedule
from textline.texting.inbound import receive_inbound

ABUSE = "my stepdad hits me when he drinks"
NOT_ABUSE = "my dad doesnt hit me, we just argue"
TEXTER, OTHER = "+15550108001", "+15550108002"


def _text(live_app, number, body) -> Conversation:
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                live_app.auth_token)
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def _audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _adult(live_app, email="dana@example.org") -> Browser:
    browser = Browser(live_app.base_url)
    sign_in(browser, email)
    return browser


@pytest.fixture
def team(app_ctx):
    return on_shift(PASSWORD, dana="supervisor", sam="volunteer", root="admin")


# ---- owed ---------------------------------------------------------------------------------------

def test_an_abuse_disclosure_owes_one_report_decision(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    _text(live_app, TEXTER, ABUSE + " again")  # the same conversation: still one decision
    reports = db.session.scalars(select(ReportDecision)).all()
    assert [(r.conversation_id, r.trigger, r.decided_at) for r in reports] == [(conv.id, "risk", None)]
    assert [(e.target_id, e.actor_id, e.details["trigger"]) for e in _audits("report.owed")] == \
        [(reports[0].id, None, "risk")]


def test_a_negated_ordinary_or_training_text_owes_nothing(live_app, app_ctx, team):
    _text(live_app, TEXTER, NOT_ABUSE)
    _text(live_app, OTHER, "i feel so alone and sad")
    assert receive_inbound("+15550108003", ABUSE, new_sid(), training=True).reports_owed is False
    assert db.session.scalar(select(func.count()).select_from(ReportDecision)) == 0


def test_an_adult_marks_a_conversation_and_decides_with_an_audit_trail(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, "can i talk to someone about home")
    dana = _adult(live_app)
    token = csrf_token(dana, f"/duty/conversations/{conv.id}")
    assert dana.post(f"/duty/conversations/{conv.id}/mark", data={"csrf_token": token}).status_code == 303
    assert dana.post(f"/duty/conversations/{conv.id}/mark", data={"csrf_token": token}).status_code == 303
    report = db.session.scalar(select(ReportDecision))
    assert report.trigger == "marked" and report.marked_by_id == team["dana"].id
    assert len(_audits("report.owed")) == 1

    # A form that cannot be saved says why, and saves nothing.
    bad = dana.post(f"/duty/conversations/{conv.id}/decision",
                    data={"csrf_token": token, "decision": "not_required", "not_required_why": "  "})
    assert bad.status_code == 400 and "Say why no report is required." in bad.text
    db.session.expire_all()
    assert db.session.get(ReportDecision, report.id).decided_at is None

    ok = dana.post(f"/duty/conversations/{conv.id}/decision", data={
        "csrf_token": token, "decision": "reported", "reported_to": "child_protective_services",
        "reference": "CPS-2026-0042", "reported_at": ""})
    assert ok.status_code == 303
    db.session.expire_all()
    report = db.session.get(ReportDecision, report.id)
    assert (report.decision, report.reported_to, report.reference, report.decided_by_id) == \
        ("reported", "child_protective_services", "CPS-2026-0042", team["dana"].id)
    assert report.decided_at is not None and report.reported_at is not None

    # A correction is its own audit line, naming what changed (not the adult's words).
    dana.post(f"/duty/conversations/{conv.id}/decision", data={
        "csrf_token": token, "decision": "consulted", "consulted_with": "our safeguarding lead"})
    decided, changed = _audits("report.decide"), _audits("report.change")
    assert [e.details["decision"] for e in decided] == ["reported"]
    assert [e.details["decision"] for e in changed] == ["consulted"]
    assert "our safeguarding lead" not in json.dumps(changed[0].details)
    assert "consulted_with" in changed[0].details["changed"]
    page = dana.get(f"/duty/conversations/{conv.id}")
    assert "Decided: Consulted" in page.text and _audits("duty.view")


def test_a_report_needs_who_it_went_to_and_a_time_not_in_the_future(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    report = owed.for_conversation(conv.id)
    with pytest.raises(DutyError) as missing:
        decisions.decide(report, team["dana"], {"decision": "reported"})
    assert missing.value.field == "reported_to"
    with pytest.raises(DutyError) as other:
        decisions.decide(report, team["dana"], {"decision": "reported", "reported_to": "other"})
    assert other.value.field == "reported_to_other"
    future = (utcnow() + timedelta(days=1)).astimezone(load_schedule().tz).strftime("%Y-%m-%dT%H:%M")
    with pytest.raises(DutyError) as later:
        decisions.decide(report, team["dana"], {"decision": "reported", "reported_to": "police", "reported_at": future})
    assert later.value.field == "reported_at"
    with pytest.raises(DutyError):
        decisions.decide(report, team["dana"], {"decision": "shrug"})
    db.session.rollback()
    assert owed.for_conversation(conv.id).decided_at is None and not _audits("report.decide")


# ---- reminded -----------------------------------------------------------------------------------

def test_a_decision_still_owed_is_reminded_once_to_adults_only(live_app, app_ctx, team, cfg):
    cfg["REPORT_REMINDER_MINUTES"] = 30
    conv = _text(live_app, TEXTER, ABUSE)
    dana = ConsoleClient(live_app.base_url, login(live_app.base_url, "dana@example.org", PASSWORD))
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", PASSWORD))
    try:
        dana.wait_for("hello"), sam.wait_for("hello")
        assert reminders.sweep() == 0  # not yet due
        db.session.execute(update(ReportDecision).values(owed_at=utcnow() - timedelta(minutes=31)))
        db.session.commit()
        assert reminders.sweep() == 1
        assert reminders.sweep() == 0  # once
        reminder = dana.wait_for("report_reminder")
        assert reminder["conversation_id"] == conv.id and reminder["alias"] == conv.texter.alias
        dana.wait_for("work")
        items = dana.call("work_list", {})["items"]
        # The text was high risk too: its alert is on the list, after the (back-dated) report.
        assert [(i["kind"], i["overdue"]) for i in items] == [("report", True), ("alert", False)]
        refused = sam.call("work_list", {})
        assert refused["ok"] is False and refused["code"] == "forbidden"
        with pytest.raises(TimeoutError):
            sam.wait_for("report_reminder", timeout=0.5)
    finally:
        dana.close(), sam.close()
    assert [e.target_id for e in _audits("report.remind")] == [owed.for_conversation(conv.id).id]


def test_the_escalation_sweep_task_reminds(live_app, app_ctx, team, cfg):
    from workers.escalation import sweep_escalations

    cfg["REPORT_REMINDER_MINUTES"] = 0
    _text(live_app, TEXTER, ABUSE)
    assert sweep_escalations.delay().get()["report_reminders"] == 1


# ---- the work list ------------------------------------------------------------------------------

def test_the_work_list_has_alerts_and_reports_oldest_first_with_owners(live_app, app_ctx, team):
    high = _text(live_app, OTHER, "i have the pills and tonight im going to take them all")
    conv = _text(live_app, TEXTER, ABUSE)
    db.session.execute(update(ReportDecision).values(owed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    dana = _adult(live_app)
    dana.post(f"/duty/conversations/{high.id}/mark", data={"csrf_token": csrf_token(dana, "/supervise")})
    with live_app.app.test_request_context():  # as in the socket handler: links are built for a request
        items = work_list.items()
    # The abuse text was high risk as well: its alert is there, in its place by age.
    assert [(i.kind, i.conversation_id) for i in items] == \
        [("report", conv.id), ("alert", high.id), ("alert", conv.id), ("report", high.id)]
    assert items[0].owner is None and items[3].owner == "Dana"
    assert items[0].url == f"/duty/conversations/{conv.id}"

    # Decided: off the list.
    decisions.decide(owed.for_conversation(conv.id), team["dana"], {"decision": "consulted", "consulted_with": "lead"})
    with live_app.app.test_request_context():
        assert [(i.kind, i.conversation_id) for i in work_list.items()] == \
            [("alert", high.id), ("alert", conv.id), ("report", high.id)]


def test_other_features_plug_their_work_in(live_app, app_ctx, team):
    then = utcnow() - timedelta(days=1)

    def debriefs(now):
        yield work_list.WorkItem("debrief", "Debrief requested", then, owner=None, detail="Sam")

    work_list.work_source(debriefs)
    work_list.work_source(debriefs)  # registering twice is harmless
    try:
        _text(live_app, TEXTER, ABUSE)
        with live_app.app.test_request_context():
            assert [i.kind for i in work_list.items()] == ["debrief", "alert", "report"]
    finally:
        work_list.SOURCES.remove(debriefs)


# ---- emergencies and insights ---------------------------------------------------------------------

def test_emergency_records_are_counted_in_insights(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    practice = _text(live_app, OTHER, "practice")
    practice.training = True
    db.session.commit()
    dana = _adult(live_app)
    token = csrf_token(dana, f"/duty/conversations/{conv.id}")
    missing = dana.post(f"/duty/conversations/{conv.id}/emergency", data={"csrf_token": token, "service": ""})
    assert missing.status_code == 400
    ok = dana.post(f"/duty/conversations/{conv.id}/emergency",
                   data={"csrf_token": token, "service": "911", "outcome": "police sent a welfare check"})
    assert ok.status_code == 303
    emergencies.record(practice, team["dana"], {"service": "911"})
    decisions.decide(owed.for_conversation(conv.id), team["dana"], {"decision": "reported", "reported_to": "police"})
    [rec] = emergencies.for_conversation(conv.id)
    assert (rec.service, rec.recorded_by_id) == ("911", team["dana"].id)
    assert [e.target_id for e in _audits("emergency.record")][0] == rec.id
    report = build_report(parse_period(None, None, load_schedule().tz))
    assert report.duty == {"emergency_contacts": 1, "reports_owed": 1, "still_owed": 0, "reported": 1,
                           "not_required": 0, "consulted": 0}
    page = dana.get("/insights")
    assert 'data-testid="emergency-contacts">1<' in page.text


# ---- retention, erasure, export -------------------------------------------------------------------

def _closed_long_ago(conv: Conversation, days: int) -> None:
    conv.status, conv.closed_at = "closed", utcnow() - timedelta(days=days)
    db.session.commit()


def test_reports_outlive_transcripts_and_go_after_their_own_period_unless_held(live_app, app_ctx, team):
    kept = _text(live_app, TEXTER, ABUSE)
    held = _text(live_app, OTHER, ABUSE)
    for conv in (kept, held):
        decisions.decide(owed.for_conversation(conv.id), team["dana"], {"decision": "not_required",
                                                                        "not_required_why": "already known to CPS"})
        emergencies.record(conv, team["dana"], {"service": "911"})
        _closed_long_ago(conv, 200)
    admin = _adult(live_app, "root@example.org")
    admin.post(f"/duty/conversations/{held.id}/hold", data={"csrf_token": csrf_token(admin, "/supervise"), "hold": "on"})
    assert owed.for_conversation(held.id).legal_hold is True and records.held(held.id)
    assert [r.legal_hold for r in emergencies.for_conversation(held.id)] == [True]  # the whole conversation's
    assert _audits("duty.legal_hold")[0].details == {"hold": True, "records": 2}
    assert emergencies.record(held, team["dana"], {"service": "police"}).legal_hold is True  # held with the rest

    # Transcripts go after RETENTION_DAYS; the duty records stay.
    assert retention.apply_retention(90)["conversations_erased"] == 2
    assert records.apply_retention(365 * 7, utcnow()) == {"report_decisions_deleted": 0, "emergency_records_deleted": 0}
    assert db.session.scalar(select(func.count()).select_from(ReportDecision)) == 2

    # Past REPORT_RETENTION_DAYS: gone, but the held conversation's records stay.
    assert records.apply_retention(100, utcnow()) == {"report_decisions_deleted": 1, "emergency_records_deleted": 1}
    assert [r.conversation_id for r in db.session.scalars(select(ReportDecision))] == [held.id]
    assert [r.conversation_id for r in db.session.scalars(select(EmergencyRecord))] == [held.id, held.id]
    assert _audits("duty.retention")[0].details["report_decisions"] == 1


def test_an_owed_decision_is_never_deleted_by_retention(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    _closed_long_ago(conv, 5000)
    assert records.apply_retention(1, utcnow())["report_decisions_deleted"] == 0
    assert owed.for_conversation(conv.id) is not None


def test_the_admin_export_carries_duty_records_and_erasure_keeps_only_held_ones(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    decisions.decide(owed.for_conversation(conv.id), team["dana"], {
        "decision": "reported", "reported_to": "online_exploitation_platform", "reference": "TIP-77"})
    emergencies.record(conv, team["dana"], {"service": "911", "outcome": "ambulance came"})
    admin = _adult(live_app, "root@example.org")
    token = csrf_token(admin, "/admin/texters")
    export = admin.post("/admin/texters/export", data={"csrf_token": token, "number": TEXTER}).json()
    [c] = export["conversations"]
    assert c["report_decision"]["reference"] == "TIP-77"
    assert c["report_decision"]["reported_to"] == "online_exploitation_platform"
    assert [e["outcome"] for e in c["emergency_records"]] == ["ambulance came"]

    # Only the emergency record is held (as when the hold came before the report decision was owed).
    db.session.execute(update(EmergencyRecord).values(legal_hold=True))
    db.session.commit()
    erased = admin.post("/admin/texters/erase", data={"csrf_token": token, "number": TEXTER, "confirm": "ERASE"},
                        follow_redirects=True)
    assert "1 duty record(s) on legal hold were kept" in erased.text
    db.session.expire_all()
    assert owed.for_conversation(conv.id) is None
    assert [r.service for r in emergencies.for_conversation(conv.id)] == ["911"]
    assert _audits("texter_erase")[0].details["duty_records_held"] == 1


def test_volunteers_never_see_duty_pages(live_app, app_ctx, team):
    conv = _text(live_app, TEXTER, ABUSE)
    sam = _adult(live_app, "sam@example.org")
    assert sam.get(f"/duty/conversations/{conv.id}").status_code == 403
    admin = _adult(live_app, "root@example.org")
    assert admin.post(f"/duty/conversations/{_text(live_app, OTHER, 'hi').id}/hold",
                      data={"csrf_token": csrf_token(admin, "/supervise"), "hold": "on"}).status_code == 404
    token = csrf_token(sam, "/console")
    for path, data in (("decision", {"decision": "not_required", "not_required_why": "x"}), ("mark", {}),
                       ("emergency", {"service": "911"}), ("hold", {"hold": "on"})):
        assert sam.post(f"/duty/conversations/{conv.id}/{path}", data={"csrf_token": token, **data}).status_code == 403
    db.session.expire_all()
    assert owed.for_conversation(conv.id).decided_at is None and not emergencies.for_conversation(conv.id)
    dana = _adult(live_app)  # a supervisor may not put records on legal hold
    assert dana.post(f"/duty/conversations/{conv.id}/hold",
                     data={"csrf_token": csrf_token(dana, "/supervise"), "hold": "on"}).status_code == 403


# ---- PostgreSQL ---------------------------------------------------------------------------------

def test_postgres_owes_decides_reminds_records_and_forgets(pg_app):
    with pg_app.app_context():
        dana = on_shift(PASSWORD, dana="supervisor")["dana"]
        first = receive_inbound(TEXTER, ABUSE, new_sid())
        assert first.reports_owed is True
        assert receive_inbound(TEXTER, ABUSE, new_sid()).reports_owed is False  # one per conversation
        conv = first.conversation
        report, new = owed.mark(conv, dana)
        assert new is False and report.trigger == "risk"
        pg_app.config["REPORT_REMINDER_MINUTES"] = 0
        assert reminders.sweep() == 1 and reminders.sweep() == 0
        decisions.decide(report, dana, {"decision": "reported", "reported_to": "other",
                                        "reported_to_other": "school safeguarding officer", "reference": "S-1"})
        emergencies.record(conv, dana, {"service": "911", "outcome": "welfare check"})
        db.session.expire_all()
        report = owed.for_conversation(conv.id)
        assert (report.decision, report.reported_to_other, report.reminded_at is not None) == \
            ("reported", "school safeguarding officer", True)
        assert [a for a, in db.session.execute(select(AuditEvent.action).where(
            AuditEvent.target_type.in_(["report_decision", "emergency_record"])).order_by(AuditEvent.id))] == \
            ["report.owed", "report.remind", "report.decide", "emergency.record"]
        assert records.export_for(conv.id)["report_decision"]["reference"] == "S-1"
        conv.status, conv.closed_at = "closed", utcnow() - timedelta(days=30)
        db.session.commit()
        assert records.apply_retention(10, utcnow()) == {"report_decisions_deleted": 1, "emergency_records_deleted": 1}
        db.session.remove()


# ---- the demo -----------------------------------------------------------------------------------

def test_the_demo_seeds_an_owed_and_a_reported_example_once(live_app, app_ctx):
    runner = live_app.app.test_cli_runner()
    result = runner.invoke(args=["textline", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "duty-of-care examples" in result.output
    assert runner.invoke(args=["textline", "seed-demo"]).exit_code == 0  # once only
    reports = db.session.scalars(select(ReportDecision).order_by(ReportDecision.id)).all()
    assert [(r.trigger, r.decision, r.reference) for r in reports] == \
        [("risk", None, None), ("risk", "reported", "CPS-DEMO-0001")]
    assert [e.service for e in db.session.scalars(select(EmergencyRecord))] == ["911"]
    with live_app.app.test_request_context():
        assert [i.kind for i in work_list.items()] == ["report"]
    assert build_report(parse_period(None, None, load_schedule().tz)).duty["emergency_contacts"] == 1
