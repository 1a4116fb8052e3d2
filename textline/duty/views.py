"""The duty-of-care page of one conversation, for adults only: its report decision (owed, or mark it as
owed, then decide) and its emergency records. Plain HTML forms; every create or change is audited."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from textline import broadcast
from textline.accounts import audit
from textline.accounts.access import admin_required, supervisor_required
from textline.duty import decisions, emergencies, owed, records, reminders
from textline.duty.forms import DutyError, line_tz, local_input
from textline.extensions import db
from textline.models import REPORTED_TO, Conversation, utcnow
from textline.ops.request_args import get_or_404

bp = Blueprint("duty", __name__, url_prefix="/duty")


def _page(conv: Conversation, error: DutyError | None = None, form=None, status: int = 200):
    now = utcnow()
    report = owed.for_conversation(conv.id)
    return render_template(
        "duty/conversation.html", conv=conv, report=report, records=emergencies.for_conversation(conv.id),
        held=records.held(conv.id),
        error=error, form=form or {}, now_input=local_input(now), local=local_input, tz_name=line_tz().key,
        overdue=report is not None and reminders.overdue(report, now),
        decision_text=decisions.DECISION_TEXT, reported_to=[(k, decisions.REPORTED_TO_TEXT[k]) for k in REPORTED_TO],
        reported_to_text=decisions.REPORTED_TO_TEXT), status


@bp.get("/conversations/<int:conversation_id>")
@supervisor_required
def conversation(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    audit.record("duty.view", current_user, "conversation", conv.id)
    return _page(conv)


@bp.post("/conversations/<int:conversation_id>/mark")
@supervisor_required
def mark(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    _, new = owed.mark(conv, current_user)
    db.session.commit()
    if new:
        broadcast.work_changed()
    flash("A report decision is now owed for this conversation." if new else "A report decision was already owed.",
          "info")
    return redirect(url_for("duty.conversation", conversation_id=conv.id)), 303


@bp.post("/conversations/<int:conversation_id>/decision")
@supervisor_required
def decide(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    report = owed.for_conversation(conv.id)
    if report is None:  # deciding is also marking: an adult may decide at once
        report, _ = owed.mark(conv, current_user)
    try:
        decisions.decide(report, current_user, request.form)
    except DutyError as exc:
        db.session.rollback()
        return _page(conv, exc, request.form, 400)
    broadcast.work_changed()
    flash("Report decision saved.", "info")
    return redirect(url_for("duty.conversation", conversation_id=conv.id)), 303


@bp.post("/conversations/<int:conversation_id>/emergency")
@supervisor_required
def emergency(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    try:
        emergencies.record(conv, current_user, request.form)
    except DutyError as exc:
        db.session.rollback()
        return _page(conv, exc, request.form, 400)
    flash("Emergency contact recorded.", "info")
    return redirect(url_for("duty.conversation", conversation_id=conv.id)), 303


@bp.post("/conversations/<int:conversation_id>/hold")
@admin_required
def hold(conversation_id: int):
    conv = get_or_404(Conversation, conversation_id)
    hold = request.form.get("hold") == "on"
    if not records.set_hold(conv.id, current_user, hold):
        abort(404)  # no duty record to hold
    flash("Legal hold on: this conversation's duty records are kept past retention and through erasure." if hold
          else "Legal hold lifted.", "info")
    return redirect(url_for("duty.conversation", conversation_id=conv.id)), 303
