"""The admins' lexicon edits page (/admin/lexicon): add an entry or change one, see before saving what it
would change on the labelled texts (what_if.py), save (audited, live everywhere: lexicon_edits.py) or remove
an edit."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from textline.accounts import audit
from textline.accounts.access import admin_required
from textline.extensions import db
from textline.safety.risk import CATEGORIES, LexiconError
from textline.safety.risk.scorer import packaged_lexicon
from textline.triage import lexicon_edits, what_if

bp = Blueprint("lexicon", __name__, url_prefix="/admin/lexicon")
EMPTY = {"label": "", "category": "", "weight": "", "kind": "", "sign": "", "idiom": False,
         **{name: "" for name in lexicon_edits.LISTS}}


def _page(form: dict, preview=None, error: str | None = None, status: int = 200):
    return render_template("triage/lexicon.html", form=form, preview=preview, error=error,
                           edits=lexicon_edits.edits(), categories=CATEGORIES,
                           thresholds=packaged_lexicon().thresholds,
                           replacing=lexicon_edits.find_entry(form.get("category"), form.get("label"))), status


@bp.get("")
@admin_required
def page():
    """Blank, or an entry of the live lexicon to change (?category=…&label=…)."""
    found = lexicon_edits.find_entry(request.args.get("category"), request.args.get("label"))
    return _page(lexicon_edits.as_form(found) if found else {**EMPTY, "category": request.args.get("category", ""),
                                                              "label": request.args.get("label", "")})


def _posted() -> dict:
    return {**EMPTY, **{k: request.form.get(k, "") for k in EMPTY}, "idiom": request.form.get("idiom") == "on"}


@bp.post("/preview")
@admin_required
def preview():
    try:
        entry = lexicon_edits.from_form(request.form)
        result = what_if.preview(entry)
    except LexiconError as exc:
        return _page(_posted(), error=str(exc), status=400)
    # A look at many texters' words at once: recorded, with counts only.
    audit.record("lexicon.preview", current_user, None, None, category=entry["category"], label=entry["label"],
                 texts=result.texts, caught=len(result.caught), lost=len(result.lost),
                 new_alarms=len(result.new_alarms), new_flags=len(result.new_flags))
    return _page(_posted(), preview=result)


@bp.post("")
@admin_required
def save():
    try:
        entry = lexicon_edits.from_form(request.form)
        _, told = lexicon_edits.save(entry, current_user)
    except LexiconError as exc:
        db.session.rollback()
        return _page(_posted(), error=str(exc), status=400)
    flash(f"Saved \u201c{entry['label']}\u201d: texts are scored with it from now on"
          + ("." if told else " here; the other web processes follow when Redis answers again."), "info")
    return redirect(url_for("lexicon.page")), 303


@bp.post("/<int:edit_id>/remove")
@admin_required
def remove(edit_id: int):
    entry, told = lexicon_edits.remove(edit_id, current_user)
    if entry is None:
        abort(404)
    flash(f"Removed the edit \u201c{entry['label']}\u201d: the packaged lexicon applies again"
          + ("." if told else " here; the other web processes follow when Redis answers again."), "info")
    return redirect(url_for("lexicon.page")), 303
