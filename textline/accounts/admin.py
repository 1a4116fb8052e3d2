"""Admin pages: accounts and roles, the audit log, and texters' export/erasure requests."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, time, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from textline.accounts import audit
from textline.accounts.access import admin_required
from textline.accounts.auth import end_all_sessions, password_link
from textline.accounts.passwords import hash_password
from textline.extensions import db
from textline.models import AuditEvent, Role, User
from textline.ops import retention
from textline.texting.privacy import normalise_number

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLES = [r.value for r in Role]
PAGE = 100


def _unusable_password() -> str:
    """Accounts start with a random password nobody knows; the invite link sets a real one."""
    return hash_password(secrets.token_urlsafe(32))


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _form_int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.form.get(name, default))
    except ValueError:
        raise ValueError(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def _pager(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    return normalise_number(raw) if raw else None


@bp.get("")
@admin_required
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@admin_required
def users():
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.display_name)).all()
    return render_template("accounts/users.html", users=rows, roles=ROLES)


@bp.post("/users")
@admin_required
def create_user():
    email = (request.form.get("email") or "").strip().lower()
    name = (request.form.get("name") or "").strip()
    role = request.form.get("role", Role.VOLUNTEER.value)
    try:
        if "@" not in email or not name:
            raise ValueError("An email address and a name are needed.")
        if role not in ROLES:
            raise ValueError("Unknown role.")
        if db.session.scalar(select(User).where(func.lower(User.email) == email)):
            raise ValueError(f"{email} already has an account.")
        user = User(email=email, display_name=name[:80], role=role, password_hash=_unusable_password(),
                    capacity=_form_int("capacity", 2, 1, 10), pager_phone=_pager(request.form.get("pager_phone")))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users")), 303
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", current_user, "user", user.id, role=role)
    return render_template("accounts/link.html", user=user, link=password_link(user), purpose="invite")


@bp.get("/users/<int:user_id>")
@admin_required
def edit_user(user_id: int):
    return render_template("accounts/user.html", user=_user_or_404(user_id), roles=ROLES)


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int):
    user = _user_or_404(user_id)
    role = request.form.get("role", user.role)
    active = request.form.get("active") == "on"
    try:
        if role not in ROLES:
            raise ValueError("Unknown role.")
        if user.id == current_user.id and (role != Role.ADMIN.value or not active):
            raise ValueError("You cannot remove your own admin role or deactivate yourself.")
        capacity = _form_int("capacity", user.capacity, 1, 10)
        pager = _pager(request.form.get("pager_phone"))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id)), 303
    if role != user.role:
        audit.record("role_change", current_user, "user", user.id, commit=False, before=user.role, after=role)
    if active != user.active:
        audit.record("user_activated" if active else "user_deactivated", current_user, "user", user.id,
                     commit=False)
    user.capacity, user.pager_phone = capacity, pager
    user.display_name = (request.form.get("name") or user.display_name).strip()[:80]
    role_changed, was_active = role != user.role, user.active
    user.role, user.active = role, active
    db.session.commit()
    if role_changed or (was_active and not active):
        end_all_sessions(user)  # their open consoles still sit in rooms of the old role
    flash(f"Saved {user.display_name}.", "info")
    return redirect(url_for("admin.users")), 303


@bp.post("/users/<int:user_id>/reset-password")
@admin_required
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    user.password_hash = _unusable_password()
    end_all_sessions(user)
    audit.record("password_reset", current_user, "user", user.id)
    return render_template("accounts/link.html", user=user, link=password_link(user), purpose="reset")


@bp.post("/users/<int:user_id>/sign-out")
@admin_required
def sign_out_user(user_id: int):
    user = _user_or_404(user_id)
    end_all_sessions(user)
    audit.record("sessions_ended", current_user, "user", user.id)
    flash(f"{user.display_name} is signed out everywhere.", "info")
    return redirect(url_for("admin.users")), 303


# ---- audit log ----------------------------------------------------------------------------------

def _day(raw: str | None, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        abort(400, "Dates are YYYY-MM-DD.")
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


@bp.get("/audit")
@admin_required
def audit_log():
    args = request.args
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("action"):
        q = q.where(AuditEvent.action == args["action"])
    if args.get("actor"):
        q = q.join(User, User.id == AuditEvent.actor_id).where(func.lower(User.email) == args["actor"].lower())
    if args.get("target_type"):
        q = q.where(AuditEvent.target_type == args["target_type"])
    if args.get("target_id", "").isdigit():
        q = q.where(AuditEvent.target_id == int(args["target_id"]))
    if _day(args.get("since")):
        q = q.where(AuditEvent.at >= _day(args.get("since")))
    if _day(args.get("until"), end=True):
        q = q.where(AuditEvent.at <= _day(args.get("until"), end=True))
    page = max(1, int(args["page"])) if args.get("page", "").isdigit() else 1
    events = db.session.scalars(q.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    names = {u.id: u.email for u in db.session.scalars(select(User))}
    return render_template("accounts/audit.html", events=events[:PAGE], more=len(events) > PAGE, page=page,
                           actions=actions, names=names, args=args)


# ---- texters' requests --------------------------------------------------------------------------

def _texter_from_form():
    try:
        number = normalise_number(request.form.get("number", ""))
    except ValueError:
        return None, "Use the phone number in +15551234567 form."
    texter = retention.find_texter(number, current_app.config["PHONE_HASH_KEY"])
    return texter, None if texter else "No texter with that number (or their data was already erased)."


@bp.route("/texters", methods=["GET", "POST"])
@admin_required
def texters():
    texter, error = (None, None)
    if request.method == "POST":
        texter, error = _texter_from_form()
        if texter is not None:
            audit.record("texter_lookup", current_user, "texter", texter.id)
    return render_template("accounts/texters.html", texter=texter, error=error), 404 if error else 200


@bp.post("/texters/export")
@admin_required
def export_texter():
    texter, error = _texter_from_form()
    if texter is None:
        flash(error, "error")
        return redirect(url_for("admin.texters")), 303
    audit.record("texter_export", current_user, "texter", texter.id)
    body = json.dumps(retention.export_texter(texter), indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=texter-{texter.id}.json"})


@bp.post("/texters/erase")
@admin_required
def erase_texter():
    texter, error = _texter_from_form()
    if texter is None:
        flash(error, "error")
        return redirect(url_for("admin.texters")), 303
    if request.form.get("confirm") != "ERASE":
        flash('Type ERASE to confirm: this cannot be undone.', "error")
        return redirect(url_for("admin.texters")), 303
    count = retention.erase_texter(texter)
    audit.record("texter_erase", current_user, "texter", texter.id, conversations=count)
    flash(f"Erased {texter.alias}: {count} conversation(s); their number is forgotten.", "info")
    return redirect(url_for("admin.texters")), 303
