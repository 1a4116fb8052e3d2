"""Admin pages: accounts and roles (their rules are users.py), the audit log, and texters' export and
erasure requests."""
from __future__ import annotations

import json
from datetime import datetime, time, timezone

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from textline.accounts import audit, throttle
from textline.accounts import users as accounts
from textline.accounts.access import admin_required
from textline.accounts.auth import password_link
from textline.extensions import db
from textline.models import AuditEvent, Role, User
from textline.ops import retention
from textline.ops.request_args import get_or_404, int_arg
from textline.texting import language, spool_drain
from textline.texting.privacy import SMS, WHATSAPP, parse_address, phone_hash

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 100
MAX_PAGE = 100_000  # ten million events back: the offset stays a sane number on any database


def _user_or_404(user_id: int) -> User:
    return get_or_404(User, user_id)


@bp.get("")
@admin_required
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@admin_required
def users():
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.display_name)).all()
    return render_template("accounts/users.html", users=rows, roles=accounts.ROLES, languages=language.NAMES,
                           default_language=language.DEFAULT)


@bp.post("/users")
@admin_required
def create_user():
    form = request.form
    try:
        user = accounts.create(current_user, form.get("email"), form.get("name"), form.get("role", Role.VOLUNTEER.value),
                            form.get("capacity", 2), form.get("pager_phone"), _languages_field(form))
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users")), 303
    return render_template("accounts/link.html", user=user, link=password_link(user), purpose="invite")


def _languages_field(form) -> list[str] | None:
    """The ticked languages. The forms always send `languages` (a hidden empty one, then one per ticked
    box), so none ticked is an error, not "unchanged"; None only from a client that sent no such field."""
    return form.getlist("languages") if "languages" in form else None


@bp.get("/users/<int:user_id>")
@admin_required
def edit_user(user_id: int):
    return render_template("accounts/user.html", user=_user_or_404(user_id), roles=accounts.ROLES,
                           languages=language.NAMES)


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int):
    user, form = _user_or_404(user_id), request.form
    try:
        accounts.update(current_user, user, form.get("name"), form.get("role", user.role), form.get("active") == "on",
                     form.get("capacity", user.capacity), form.get("pager_phone"), _languages_field(form))
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id)), 303
    flash(f"Saved {user.display_name}.", "info")
    return redirect(url_for("admin.users")), 303


@bp.post("/users/<int:user_id>/reset-password")
@admin_required
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    accounts.reset_password(current_user, user)
    return render_template("accounts/link.html", user=user, link=password_link(user), purpose="reset")


@bp.post("/users/<int:user_id>/sign-out")
@admin_required
def sign_out_user(user_id: int):
    user = _user_or_404(user_id)
    accounts.sign_out_everywhere(current_user, user)
    flash(f"{user.display_name} is signed out everywhere.", "info")
    return redirect(url_for("admin.users")), 303


# ---- sign-in waits ------------------------------------------------------------------------------

@bp.get("/sign-in-waits")
@admin_required
def sign_in_waits():
    return render_template("accounts/sign_in_waits.html", rows=throttle.current(), free=throttle.FREE_FAILURES)


@bp.post("/sign-in-waits/lift")
@admin_required
def lift_sign_in_wait():
    """A volunteer cannot get in from the computer where someone guessed at their account: let them."""
    email = (request.form.get("email") or "").strip().lower()
    client = (request.form.get("client") or "").strip() or None
    lifted = throttle.lift(email, client)
    audit.record("login_wait_lifted", current_user, "user", None, email=email[:254], client=client, lifted=lifted)
    flash(f"Lifted {lifted} wait{'s' if lifted != 1 else ''} for {email}." if lifted
          else f"No wait on record for {email}.", "info")
    return redirect(url_for("admin.sign_in_waits")), 303


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
    target_id = int_arg(args, "target_id")
    if target_id is not None:
        q = q.where(AuditEvent.target_id == target_id)
    if _day(args.get("since")):
        q = q.where(AuditEvent.at >= _day(args.get("since")))
    if _day(args.get("until"), end=True):
        q = q.where(AuditEvent.at <= _day(args.get("until"), end=True))
    page = int_arg(args, "page", default=1, high=MAX_PAGE)
    events = db.session.scalars(q.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    names = {u.id: u.email for u in db.session.scalars(select(User))}
    return render_template("accounts/audit.html", events=events[:PAGE], more=len(events) > PAGE, page=page,
                           actions=actions, names=names, args=args)


# ---- texters' requests --------------------------------------------------------------------------

def _texter_from_form():
    try:
        channel, number = parse_address(request.form.get("number", ""))
    except ValueError:
        channel = None
    if channel not in (SMS, WHATSAPP):  # a WhatsApp texter is another texter: found by that address
        return None, "Use the phone number in +15551234567 form (whatsapp:+15551234567 on WhatsApp)."
    texter = retention.find_texter(number, current_app.config["PHONE_HASH_KEY"])
    return texter, None if texter else "No texter with that number (or their data was already erased)."


def _spooled_from_form() -> int:
    """Texts from the form's number still waiting in this host's spool (not yet in SQL)."""
    try:
        _, number = parse_address(request.form.get("number", ""))
        return spool_drain.waiting_from(phone_hash(number, current_app.config["PHONE_HASH_KEY"]))
    except ValueError:
        return 0


@bp.route("/texters", methods=["GET", "POST"])
@admin_required
def texters():
    texter, error, spooled = (None, None, 0)
    if request.method == "POST":
        texter, error = _texter_from_form()
        if texter is not None:
            audit.record("texter_lookup", current_user, "texter", texter.id)
        else:
            spooled = _spooled_from_form()  # the database was down when they texted: erasable all the same
            if spooled:
                error = "Nothing from that number is stored in the database yet."
    return (render_template("accounts/texters.html", texter=texter, error=error, spooled=spooled),
            404 if error else 200)


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
    if texter is None and not _spooled_from_form():
        flash(error, "error")
        return redirect(url_for("admin.texters")), 303
    if request.form.get("confirm") != "ERASE":
        flash('Type ERASE to confirm: this cannot be undone.', "error")
        return redirect(url_for("admin.texters")), 303
    if texter is None:  # known only to the spool: its entries go, and no drain will store them
        _, number = parse_address(request.form["number"])
        gone = retention.erase_unstored(number, current_app.config["PHONE_HASH_KEY"])
        audit.record("texter_erase", current_user, "texter", None, spooled=gone)
        flash(f"Erased {gone} text(s) that waited for the database; none will be stored.", "info")
        return redirect(url_for("admin.texters")), 303
    count, held = retention.erase_texter(texter)
    audit.record("texter_erase", current_user, "texter", texter.id, conversations=count, duty_records_held=held)
    kept = f" {held} duty record(s) on legal hold were kept." if held else ""
    flash(f"Erased {texter.alias}: {count} conversation(s); their number is forgotten.{kept}", "info")
    return redirect(url_for("admin.texters")), 303
