"""The insights page: its numbers on known data, its charts, CSV export and date filter."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.web import Browser, sign_in
from textline.extensions import db
from textline.insights import charts
from textline.insights.report import Period, PeriodError, build_report, parse_period, percentile
from textline.models import AuditEvent, Conversation, Escalation, Message, SurveyResponse, Texter

LA = ZoneInfo("America/Los_Angeles")  # data/hours.yaml
UTC = timezone.utc


def test_percentiles_are_nearest_rank():
    values = list(range(1, 11))
    assert [percentile(values, p) for p in (50, 90, 99, 100)] == [5, 9, 10, 10]
    assert percentile([42], 99) == 42
    assert percentile([], 50) is None


def test_period_defaults_to_the_last_seven_local_days():
    # 03:00 UTC on March 10 is still March 9 in Los Angeles.
    period = parse_period(None, None, LA, now=datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    assert (period.first, period.last) == (date(2026, 3, 3), date(2026, 3, 9))
    assert period.start == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # PST midnight
    assert period.end == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # PDT midnight (clocks changed on the 8th)


@pytest.mark.parametrize("raw_from, raw_to, message", [
    ("yesterday", "2026-03-09", "start date"), ("2026-03-01", "2026-13-01", "end date"),
    ("2026-03-09", "2026-03-01", "after the end"), ("2024-01-01", "2026-01-01", "at most 366 days"),
])
def test_bad_periods_get_a_clear_message(raw_from, raw_to, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(raw_from, raw_to, LA)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local (Los Angeles) time in March 2026, as UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LA).astimezone(UTC)


def conversation(n: int, opened: datetime, wait: float | None, status: str = "closed", training=False,
                 disposition=None, score=None, survey_sent=None) -> Conversation:
    texter = Texter(phone_hash=f"{n:064d}", alias=f"Texter {n:04d}")
    conv = Conversation(texter=texter, status=status, opened_at=opened, queued_at=opened, risk_level="none",
                        risk_reasons=[], training=training, disposition=disposition,
                        claimed_at=opened + timedelta(seconds=wait) if wait is not None else None,
                        closed_at=opened + timedelta(hours=1) if status == "closed" else None)
    db.session.add(conv)
    db.session.flush()
    if survey_sent or score is not None:
        db.session.add(Message(conversation=conv, direction="out", author_kind="system", kind="survey", body="?",
                               status="delivered" if survey_sent is not False else "refused"))
    if score is not None:
        db.session.add(SurveyResponse(conversation=conv, score=score))
    return conv


@pytest.fixture
def march(app_ctx):
    """Two local days of made-up history, plus a training conversation that must not count."""
    made = [
        conversation(1, at(9, 18, 5), 30, disposition={"outcome": "supported", "topics": ["school", "family"]},
                     score=5),
        conversation(2, at(9, 18, 40), 90, disposition={"outcome": "referred", "topics": ["family"]}, score=3),
        conversation(3, at(9, 23, 50), 400, disposition={"outcome": "supported"}, survey_sent=True),
        conversation(4, at(10, 19, 0), None),  # ended before anyone claimed it
        conversation(5, at(10, 20, 0), 2000, disposition={"outcome": "texter_left", "topics": ["=HYPERLINK()"]}),
        conversation(6, at(10, 20, 30), 10, training=True, disposition={"topics": ["practice"]}, score=1),
        conversation(7, at(11, 18, 0), 5),  # the day after the period
    ]
    db.session.commit()
    return made


def test_report_on_known_data(march):
    report = build_report(Period(date(2026, 3, 9), date(2026, 3, 10), LA), now=at(12, 0))
    assert report.total == 5  # the training one and the one outside the dates are left out
    assert report.per_day == [(date(2026, 3, 9), 3), (date(2026, 3, 10), 2)]
    assert report.per_hour[18] == 2 and report.per_hour[23] == 1 and report.per_hour[19] == 1
    assert report.per_hour[20] == 1 and sum(report.per_hour) == 5
    assert report.waits == [30, 90, 400, 2000]
    assert report.wait_percentiles() == {"p50": 90, "p90": 2000, "p99": 2000}
    assert report.answered_in_time() == (2, 5)  # 30 s and 90 s; 400 s, 2000 s and the unclaimed one are late
    assert report.unclaimed_closed() == 1
    assert dict(report.wait_histogram()) == {"<1 min": 1, "1-2 min": 1, "2-5 min": 0, "5-10 min": 1,
                                             "10-30 min": 0, "30+ min": 1}
    assert dict(report.topics()) == {"family": 2, "school": 1, "=HYPERLINK()": 1}
    assert dict(report.outcomes()) == {"supported": 2, "referred": 1, "texter_left": 1}
    assert report.survey() == {"sent": 3, "answered": 2, "mean": 4.0,
                               "distribution": [(1, 0), (2, 0), (3, 1), (4, 0), (5, 1)]}
    assert report.escalations()["total"] == 0 and report.response_histogram()[-1] == ("never acknowledged", 0)


def test_a_conversation_still_waiting_counts_only_once_it_is_late(app_ctx):
    now = datetime.now(UTC)
    conversation(1, now - timedelta(minutes=2), None, status="waiting")
    conversation(2, now - timedelta(minutes=6), None, status="waiting")
    db.session.commit()
    today = now.astimezone(LA).date()
    report = build_report(Period(today - timedelta(days=1), today, LA), now=now)
    assert report.answered_in_time() == (0, 1)
    assert report.still_waiting() == 2


def test_charts_are_svg_with_names_and_escaped_labels():
    svg = charts.bar_chart("t", "Per <day>", ["<script>alert(1)</script>", "b"], [3, 1], description="d & e")
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg and 'aria-labelledby="t-title t-desc"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Per &lt;day&gt;" in svg and "d &amp; e" in svg
    assert svg.count('<rect class="chart-bar"') == 2
    assert "style=" not in svg  # the CSP allows no inline styles: colours come from CSS classes
    with pytest.raises(ValueError):
        charts.bar_chart("t", "x", ["a"], [1, 2])


@pytest.mark.parametrize("top, expected", [(0, 4), (3, 4), (5, 8), (9, 12), (37, 40), (100, 100), (1234, 1600)])
def test_axis_tops_are_round(top, expected):
    assert charts.axis_top(top) == expected


@pytest.fixture
def dana(live_app, app_ctx):
    make_user(db.session, "dana@example.org", "supervisor")
    browser = Browser(live_app.base_url)
    sign_in(browser, "dana@example.org")
    return browser


def test_page_shows_the_numbers_and_charts(dana, march):
    page = dana.get("/insights?from=2026-03-09&to=2026-03-10")
    assert page.status_code == 200
    html = page.text
    assert '<dd data-testid="total">5</dd>' in html
    assert "40%" in html and "(2 of 5)" in html
    for chart in ("per-day", "per-hour", "waits", "survey"):
        assert f'data-testid="chart-{chart}"' in html
    assert "practice" not in html  # the training conversation's topic
    assert page.headers["Cache-Control"] == "no-store"


def test_bad_dates_get_a_400_with_the_reason(dana):
    page = dana.get("/insights?from=2026-03-09&to=yesterday")
    assert page.status_code == 400
    assert "The end date must look like" in page.text


def _csv(response):
    return list(csv.reader(io.StringIO(response.text)))


def test_csv_export_per_day_and_per_conversation(dana, march):
    days = dana.get("/insights/export.csv?what=days&from=2026-03-09&to=2026-03-10")
    assert days.status_code == 200 and days.headers["Content-Type"].startswith("text/csv")
    assert 'filename="textline-days-2026-03-09-to-2026-03-10.csv"' in days.headers["Content-Disposition"]
    rows = _csv(days)
    assert rows[0][:5] == ["date", "conversations", "claimed", "answered_within_5_min", "outcome_known"]
    assert [r[:5] for r in rows[1:]] == [["2026-03-09", "3", "3", "2", "3"], ["2026-03-10", "2", "1", "0", "2"]]
    convs = _csv(dana.get("/insights/export.csv?what=conversations&from=2026-03-09&to=2026-03-10"))
    assert [r[0] for r in convs[1:]] == [str(c.id) for c in march[:5]]
    by_id = {r[0]: dict(zip(convs[0], r)) for r in convs[1:]}
    assert by_id[str(march[0].id)]["survey_score"] == "5" and by_id[str(march[0].id)]["wait_seconds"] == "30.0"
    # A cell that a spreadsheet would run as a formula is defused.
    assert by_id[str(march[4].id)]["topics"] == "'=HYPERLINK()"
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "insights_export")).all()
    assert [e.details["what"] for e in exports] == ["days", "conversations"]


def test_csv_export_refuses_unknown_kinds_and_bad_dates(dana):
    assert dana.get("/insights/export.csv?what=phones").status_code == 400
    bad = dana.get("/insights/export.csv?from=nope")
    assert bad.status_code == 400 and "start date" in bad.text


# ---- escalations and how fast adults answered them ----------------------------------------------

def escalation(conv: Conversation, reason: str, opened: datetime, acked_after: float | None = None,
               resolved_after: float | None = None, pages: int = 0) -> Escalation:
    esc = Escalation(conversation_id=conv.id, reason=reason, episode=f"{reason}-{opened.timestamp()}",
                     opened_at=opened, pages_sent=pages,
                     acknowledged_at=opened + timedelta(seconds=acked_after) if acked_after is not None else None,
                     resolved_at=opened + timedelta(seconds=resolved_after) if resolved_after is not None else None)
    db.session.add(esc)
    return esc


@pytest.fixture
def escalated(march):
    """Escalations on the March days: answered fast, answered late, gone by themselves, never answered;
    plus one of a training conversation and one after the period, which must not count."""
    one, two, five, training, later = march[0], march[1], march[4], march[5], march[6]
    made = [
        escalation(one, "risk", at(9, 18, 6), acked_after=30),
        escalation(one, "asked", at(9, 18, 20), acked_after=150, pages=1),
        escalation(two, "wait", at(10, 19, 3), resolved_after=60),       # claimed within a minute: no adult needed
        escalation(two, "no_reply", at(10, 19, 30), resolved_after=300),  # answered after 5 minutes, no adult
        escalation(five, "risk", at(10, 20, 0), pages=3),                 # still unacknowledged
        escalation(training, "risk", at(10, 20, 31), acked_after=10),
        escalation(later, "asked", at(11, 18, 1), acked_after=20),
    ]
    db.session.commit()
    return made


def test_escalations_by_reason_and_response_times(escalated):
    report = build_report(Period(date(2026, 3, 9), date(2026, 3, 10), LA), now=at(12, 0))
    esc = report.escalations()
    by_reason = {reason: r for reason, _, r in esc.pop("by_reason")}
    assert esc == {"total": 5, "acknowledged": 2, "p50": 30, "p90": 150, "in_time": 1, "known": 4, "paged": 2,
                   "resolved_by_itself": 2, "open": 1}
    assert [(k, by_reason[k]["total"], by_reason[k]["in_time"], by_reason[k]["known"], by_reason[k]["paged"])
            for k in ("risk", "wait", "no_reply", "asked")] == [
        ("risk", 2, 1, 2, 1), ("wait", 1, 0, 0, 0), ("no_reply", 1, 0, 1, 0), ("asked", 1, 0, 1, 1)]
    assert (by_reason["asked"]["p50"], by_reason["wait"]["p50"]) == (150, None)
    assert report.response_histogram() == [("<1 min", 1), ("1-2 min", 0), ("2-5 min", 1), ("5-10 min", 0),
                                           ("10+ min", 0), ("still open", 1), ("never acknowledged", 2)]


def test_time_to_acknowledge_tells_an_open_alert_from_one_never_acknowledged(march):
    """A 10-second-old open alert is "still open", not "never": only one that ended without an adult
    acknowledging it was never acknowledged."""
    escalation(march[0], "asked", at(9, 18, 30))
    escalation(march[1], "wait", at(9, 18, 10), resolved_after=60)
    db.session.commit()
    now = at(9, 18, 30) + timedelta(seconds=10)
    counts = dict(build_report(Period(date(2026, 3, 9), date(2026, 3, 9), LA), now=now).response_histogram())
    assert (counts["still open"], counts["never acknowledged"]) == (1, 1)
    assert "never" not in counts


def test_an_unacknowledged_escalation_under_two_minutes_is_not_decided_yet(march):
    escalation(march[0], "asked", at(9, 18, 30))
    db.session.commit()
    esc = build_report(Period(date(2026, 3, 9), date(2026, 3, 9), LA), now=at(9, 18, 31)).escalations()
    assert (esc["total"], esc["known"], esc["open"]) == (1, 0, 1)
    esc = build_report(Period(date(2026, 3, 9), date(2026, 3, 9), LA), now=at(9, 18, 33)).escalations()
    assert (esc["known"], esc["in_time"]) == (1, 0)


def test_page_and_csv_show_the_escalations(dana, escalated):
    html = dana.get("/insights?from=2026-03-09&to=2026-03-10").text
    assert '<dd data-testid="escalations-total">5</dd>' in html and "(1 of 4)" in html
    assert 'data-testid="chart-responses"' in html and '<dd data-testid="escalations-paged">2</dd>' in html
    assert '<tr data-reason="asked"><td>Volunteer asked for an adult</td><td>1</td>' in html
    days = _csv(dana.get("/insights/export.csv?what=days&from=2026-03-09&to=2026-03-10"))
    head = days[0]
    by_day = {r[0]: dict(zip(head, r)) for r in days[1:]}
    assert {k: by_day["2026-03-09"][k] for k in ("escalations", "escalations_acknowledged", "acknowledged_within_2_min",
                                                "acknowledgement_known", "response_p50_seconds",
                                                "response_p90_seconds", "escalations_paged")} == {
        "escalations": "2", "escalations_acknowledged": "2", "acknowledged_within_2_min": "1",
        "acknowledgement_known": "2", "response_p50_seconds": "30.0", "response_p90_seconds": "150.0",
        "escalations_paged": "1"}
    assert by_day["2026-03-10"]["escalations"] == "3" and by_day["2026-03-10"]["response_p50_seconds"] == ""
    rows = _csv(dana.get("/insights/export.csv?what=escalations&from=2026-03-09&to=2026-03-10"))
    assert rows[0] == ["escalation_id", "conversation_id", "reason", "opened_at", "acknowledged_at",
                       "response_seconds", "resolved_at", "pages_sent"]
    assert [(r[2], r[5], r[7]) for r in rows[1:]] == [("risk", "30.0", "0"), ("asked", "150.0", "1"),
                                                      ("wait", "", "0"), ("no_reply", "", "0"), ("risk", "", "3")]


def test_wrap_up_fields_are_counted_in_the_form_order(app_ctx):
    full = {"outcome": "supported", "topics": ["anxiety"], "risk": "high", "resources": ["988", "trevor"],
            "follow_up": "adult", "by": "volunteer"}
    conversation(1, at(9, 18, 0), 30, disposition=full)
    conversation(2, at(9, 18, 5), 30, disposition={**full, "risk": "low", "resources": ["988"], "follow_up": "none"})
    conversation(3, at(9, 18, 9), None, disposition={"outcome": "opted_out", "by": "system"})
    conversation(4, at(9, 18, 9), 20, disposition={"outcome": "supported"})  # older row, before wrap-ups
    db.session.commit()
    report = build_report(Period(date(2026, 3, 9), date(2026, 3, 9), LA), now=at(12, 0))
    assert report.assessed_risk() == [("low", 1), ("high", 1)]
    assert report.follow_ups() == [("none", 1), ("adult", 1)]
    assert report.resources_given() == [("988", 2), ("trevor", 1)]  # the directory's order
    assert report.wrap_ups() == {"closed": 4, "complete": 2, "volunteer": 2, "adult": 0, "system": 1, "unknown": 1}
