"""Pages and JSON of the safety features: the supervisor dashboard and the crisis resource directory."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from textline.accounts.access import role_required, supervisor_required
from textline.console import wrap_up
from textline.models import Role
from textline.safety import timers
from textline.safety.resources import default_directory

bp = Blueprint("safety", __name__)


@bp.get("/supervise")
@supervisor_required
def supervise():
    return render_template("safety/supervise.html", me=current_user, outcomes=wrap_up.OUTCOMES,
                           timers_running=timers.running(), block_max_days=current_app.config["BLOCK_MAX_DAYS"])


@bp.get("/api/resources")
@role_required(Role.VOLUNTEER.value)
def resources():
    """The directory volunteers insert into replies with one click (data/resources.yaml)."""
    return jsonify(resources=default_directory().to_list())
