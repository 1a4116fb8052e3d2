"""The Triage page for adults (/supervise/triage): the live risk scorer against the adults' labels over a
period, with the misses and false alarms to work on. The numbers and their definitions: measures.py."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from textline.accounts.access import supervisor_required
from textline.insights.report import PeriodError, parse_period
from textline.safety.hours import load_schedule
from textline.triage import measures

bp = Blueprint("triage", __name__, url_prefix="/supervise/triage")
DEFAULT_DAYS = 30


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


@bp.get("")
@supervisor_required
def page():
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), load_schedule().tz,
                              default_days=DEFAULT_DAYS)
    except PeriodError as exc:
        return render_template("triage/triage.html", error=str(exc), triage=None, args=request.args), 400
    return render_template("triage/triage.html", error=None, triage=measures.build(period), args=request.args,
                           percent=_percent, duration=_duration, ALERT=measures.ALERT, FLAG=measures.FLAG)
