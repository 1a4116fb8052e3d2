"""Saved replies over HTTP: the admin pages that edit them (/admin/saved-replies) and the list the
volunteer console's "/" picker reads (/api/saved-replies). Rules live in textline/console/canned.py."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from textline import payloads
from textline.accounts.access import admin_required, role_required
from textline.console import canned
from textline.console.canned import CannedError
from textline.extensions import db
from textline.models import CannedResponse, Role
from textline.ops.request_args import get_or_404

bp = Blueprint("canned", __name__)


def _reply_or_404(reply_id: int) -> CannedResponse:
    return get_or_404(CannedResponse, reply_id)


def _list_page(form, errors):
    replies = canned.for_admin()
    return render_template("console/saved_replies.html", replies=replies, form=form, errors=errors,
                           categories=canned.categories(replies))


def _edit_page(reply, form, errors):
    return render_template("console/saved_reply.html", reply=reply, form=form, errors=errors,
                           categories=canned.categories(canned.for_admin()))


@bp.get("/api/saved-replies")
@role_required(Role.VOLUNTEER.value)
def for_console():
    """Active saved replies for the console picker: anyone who answers texters may read them."""
    return jsonify(replies=[payloads.saved_reply(r) for r in canned.for_console()])


@bp.get("/admin/saved-replies")
@admin_required
def index():
    return _list_page({}, {})


@bp.post("/admin/saved-replies")
@admin_required
def create():
    form = request.form
    try:
        reply = canned.create(current_user, form.get("title"), form.get("body"), form.get("category"))
    except CannedError as exc:  # shown beside each field, with what was typed kept
        db.session.rollback()
        return _list_page(form, exc.errors), 400
    flash(f"Added “{reply.title}”.", "info")
    return redirect(url_for("canned.index")), 303


@bp.get("/admin/saved-replies/<int:reply_id>")
@admin_required
def edit(reply_id: int):
    reply = _reply_or_404(reply_id)
    return _edit_page(reply, {}, {})


@bp.post("/admin/saved-replies/<int:reply_id>")
@admin_required
def update(reply_id: int):
    reply, form = _reply_or_404(reply_id), request.form
    try:
        changed = canned.update(reply, current_user, form.get("title"), form.get("body"), form.get("category"),
                                form.get("active") == "on")
    except CannedError as exc:
        db.session.rollback()
        return _edit_page(reply, form, exc.errors), 400
    flash(f"Saved “{reply.title}”." if changed else "Nothing changed.", "info")
    return redirect(url_for("canned.index")), 303


@bp.post("/admin/saved-replies/<int:reply_id>/active")
@admin_required
def set_active(reply_id: int):
    """The list's Deactivate / Reactivate button."""
    reply = _reply_or_404(reply_id)
    active = request.form.get("active") == "1"
    canned.set_active(reply, current_user, active)
    flash(f"“{reply.title}” is {'back in' if active else 'out of'} the console's saved replies.", "info")
    return redirect(url_for("canned.index")), 303
