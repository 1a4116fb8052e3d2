"""/admin/risk-models: the stored risk models, how each did beside the live one, the comparison of the
model in shadow, and the admin's decisions (shadow, promote, discard, back to the packaged model)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from textline.accounts.access import admin_required
from textline.extensions import db
from textline.models import LIVE, SHADOW, RiskModelVersion
from textline.riskmodels import comparison, decisions

bp = Blueprint("risk_models", __name__, url_prefix="/admin/risk-models")


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


@bp.get("")
@admin_required
def index():
    models = db.session.scalars(select(RiskModelVersion).order_by(RiskModelVersion.id.desc())).all()
    live = next((m for m in models if m.status == LIVE), None)
    shadow = next((m for m in models if m.status == SHADOW), None)
    return render_template("riskmodels/index.html", models=models, live=live, shadow=shadow,
                           compared=comparison.compare(shadow.id) if shadow else None, percent=_percent)


def _decide(action, *args):
    try:
        action(*args, current_user)
    except decisions.DecisionError as exc:
        flash(str(exc), "error")
    else:
        flash("Done. Every web process and worker uses it within a few seconds.", "info")
    return redirect(url_for("risk_models.index")), 303


@bp.post("/<int:model_id>/shadow")
@admin_required
def shadow(model_id: int):
    return _decide(decisions.shadow, model_id)


@bp.post("/<int:model_id>/promote")
@admin_required
def promote(model_id: int):
    return _decide(decisions.promote, model_id)


@bp.post("/<int:model_id>/discard")
@admin_required
def discard(model_id: int):
    return _decide(decisions.discard, model_id)


@bp.post("/packaged")
@admin_required
def use_packaged():
    return _decide(decisions.use_packaged)
