"""The adults' review page of blocks (/supervise/blocks): every block, who made it, why, until when, and
its changes; a block in force can be changed (reason, expiry) or lifted here."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from textline.accounts.access import supervisor_required
from textline.blocklist import blocks
from textline.extensions import db
from textline.models import AuditEvent, utcnow

bp = Blueprint("blocklist", __name__, url_prefix="/supervise/blocks")
ACTIONS = ("texter.block", "texter.block_change", "texter.block_lift")


@bp.get("")
@supervisor_required
def review():
    entries = blocks.for_review()
    texter_ids = {e.texter_id for e in entries}
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(ACTIONS), AuditEvent.target_type == "texter", AuditEvent.target_id.in_(texter_ids))
        .order_by(AuditEvent.id)).all() if texter_ids else []
    trail: dict[int, list] = {}
    for event in events:
        block_id = (event.details or {}).get("block_id")
        trail.setdefault(block_id, []).append(event)
    now = utcnow()
    return render_template("blocklist/review.html", entries=entries, trail=trail, now=now,
                           state=lambda e: blocks.state(e, now), max_days=current_app.config["BLOCK_MAX_DAYS"])


@bp.post("/<int:block_id>")
@supervisor_required
def change(block_id: int):
    try:
        entry = blocks.change(block_id, current_user, request.form.get("reason"), request.form.get("days"))
    except blocks.BlockError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("blocklist.review")), 303
    flash(f"Block of {entry.texter.alias} changed: until {entry.expires_at:%Y-%m-%d %H:%M} UTC.", "info")
    return redirect(url_for("blocklist.review")), 303


@bp.post("/<int:block_id>/lift")
@supervisor_required
def lift(block_id: int):
    try:
        entry = blocks.lift(block_id, current_user)
    except blocks.BlockError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("blocklist.review")), 303
    flash(f"Block of {entry.texter.alias} lifted: their texts reach the queue again.", "info")
    return redirect(url_for("blocklist.review")), 303
