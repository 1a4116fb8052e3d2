"""The insights page for adult advisors and admins, and its CSV export. Numbers come from
textline/insights/report.py; charts are server-rendered SVG (textline/insights/charts.py)."""
from __future__ import annotations

import csv
import io
import math

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from textline.accounts import audit
from textline.accounts.access import supervisor_required
from textline.console import wrap_up
from textline.insights import charts
from textline.insights.report import Period, PeriodError, Report, build_report, parse_period
from textline.safety.hours import load_schedule

bp = Blueprint("insights", __name__, url_prefix="/insights")
EXPORTS = ("days", "conversations", "escalations")


def _period() -> Period:
    return parse_period(request.args.get("from"), request.args.get("to"), load_schedule().tz)


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _charts(report: Report) -> dict:
    days = report.per_day
    return {
        "per_day": charts.bar_chart(
            "per-day", "Conversations per day", [d.strftime("%b %d") for d, _ in days], [n for _, n in days],
            description=f"{report.total} conversations from {report.period.first} to {report.period.last}.",
            label_every=math.ceil(len(days) / 7)),
        "per_hour": charts.bar_chart(
            "per-hour", "Conversations by hour of day (local time)", [f"{h:02d}" for h in range(24)],
            report.per_hour, description="When texters start conversations, by the hour they opened.",
            label_every=3),
        "waits": charts.bar_chart(
            "waits", "How long texters waited for a volunteer", [label for label, _ in report.wait_histogram()],
            [n for _, n in report.wait_histogram()], description="Claimed conversations by waiting time."),
        "responses": charts.bar_chart(
            "responses", "How fast an adult acknowledged an escalation",
            [label for label, _ in report.response_histogram()], [n for _, n in report.response_histogram()],
            description="Escalations by time from the alert to an adult acknowledging it."),
        "survey": charts.bar_chart(
            "survey", "Survey scores (1 = not helpful, 5 = very helpful)",
            [str(s) for s, _ in report.survey()["distribution"]], [n for _, n in report.survey()["distribution"]],
            description="How many texters gave each score."),
    }


@bp.get("")
@supervisor_required
def page():
    try:
        period = _period()
    except PeriodError as exc:
        return render_template("insights/insights.html", error=str(exc), report=None,
                               args=request.args), 400
    report = build_report(period)
    return render_template("insights/insights.html", report=report, charts=_charts(report), error=None, args=request.args,
                           minutes=_minutes, label=wrap_up.label,
                           resource_names=wrap_up.resources())


def _cell(value) -> str:
    """Spreadsheet-safe text: a cell starting with = + - @ would be run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _export_rows(report: Report, what: str) -> list[list]:
    def local_day(at):
        return at.astimezone(report.period.tz).date()

    if what == "days":
        per_day = {d: ([], []) for d, _ in report.per_day}
        for row in report.rows:
            per_day[local_day(row.opened_at)][0].append(row)
        for esc in report.escalation_rows:
            per_day[local_day(esc.opened_at)][1].append(esc)
        rows = [["date", "conversations", "claimed", "answered_within_5_min", "outcome_known",
                 "wait_p50_seconds", "wait_p90_seconds", "surveys_answered", "survey_mean",
                 "escalations", "escalations_acknowledged", "acknowledged_within_2_min", "acknowledgement_known",
                 "response_p50_seconds", "response_p90_seconds", "escalations_paged"]]
        for day, (convs, escs) in per_day.items():
            sub = Report(report.period, convs, report.now, escs)
            hits, known = sub.answered_in_time()
            pct = sub.wait_percentiles()
            survey = sub.survey()
            esc = sub.escalations()
            rows.append([day.isoformat(), sub.total, len(sub.waits), hits, known,
                         pct["p50"], pct["p90"], survey["answered"], survey["mean"],
                         esc["total"], esc["acknowledged"], esc["in_time"], esc["known"], esc["p50"], esc["p90"],
                         esc["paged"]])
        return rows
    if what == "escalations":
        rows = [["escalation_id", "conversation_id", "reason", "opened_at", "acknowledged_at", "response_seconds",
                 "resolved_at", "pages_sent"]]
        for e in report.escalation_rows:
            rows.append([e.id, e.conversation_id, e.reason, e.opened_at.isoformat(),
                         e.acknowledged_at.isoformat() if e.acknowledged_at else "", e.response_seconds,
                         e.resolved_at.isoformat() if e.resolved_at else "", e.pages_sent])
        return rows
    rows = [["conversation_id", "opened_at", "queued_at", "claimed_at", "closed_at", "wait_seconds", "status",
             "risk_level", "outcome", "topics", "assessed_risk", "resources_given", "follow_up", "closed_by",
             "survey_sent", "survey_score"]]
    for r in report.rows:
        w = r.wrap_up
        rows.append([r.id, r.opened_at.isoformat(), r.queued_at.isoformat(),
                     r.claimed_at.isoformat() if r.claimed_at else "", r.closed_at.isoformat() if r.closed_at else "",
                     r.wait_seconds, r.status, r.risk_level, r.outcome(), ";".join(r.topics()), w.risk,
                     ";".join(w.resources), w.follow_up, w.by, int(r.survey_sent), r.survey_score])
    return rows


@bp.get("/export.csv")
@supervisor_required
def export():
    what = request.args.get("what", "days")
    if what not in EXPORTS:
        return Response(f"what must be one of: {', '.join(EXPORTS)}\n", status=400, mimetype="text/plain")
    try:
        period = _period()
    except PeriodError as exc:
        return Response(str(exc) + "\n", status=400, mimetype="text/plain")
    report = build_report(period)
    # Aggregates and times only (no words, no numbers), but still a record of who took data away.
    audit.record("insights_export", current_user, None, None, what=what, first=period.first.isoformat(),
                 last=period.last.isoformat(), rows=report.total)
    name = f"textline-{what}-{period.first}-to-{period.last}.csv"
    return Response(_csv(_export_rows(report, what)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
