"""Signing in and out: argon2 passwords, waits after repeated failures (throttle.py), server-side
sessions (sessions.py), sign-out everywhere, and one-time links to set a password (invites
and resets)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from textline.accounts import audit, sessions, throttle
from textline.accounts.passwords import DUMMY_HASH, hash_password, verify_password
from textline.broadcast import disconnect_user
from textline.extensions import db, login_manager
from textline.models import User, utcnow

bp = Blueprint("auth", __name__)

LINK_MAX_AGE = 72 * 3600            # invite / reset links


@login_manager.user_loader
def load_user(session_id: str):
    """Session ids are "<user id>:<session version>": bumping the version ends every session."""
    user_id, _, version = session_id.partition(":")
    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active or str(user.session_version) != version or not sessions.valid(user):
        return None
    return user


def home_for(user: User) -> str:
    """Each role lands on its own page: adults on the dashboard, volunteers on the console."""
    return url_for("safety.supervise") if user.is_supervisor else url_for("console.console")


def landing_for(user: User) -> str:
    """After signing in: the page the person was sent to sign in from (?next=, e.g. the link in an SMS
    page), only ever a path on this site; else their role's own page."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not parts.scheme and not parts.netloc:
        return target
    return home_for(user)


def _refused(email: str, status: int, message: str):
    flash(message, "error")
    return render_template("accounts/login.html", email=email), status


@bp.errorhandler(429)
def too_many_from_here(_error):
    """The per-address limit (throttle.py): the sign-in form again, with why."""
    return _refused((request.form.get("email") or "").strip().lower(), 429,
                    "Too many sign-in attempts from here. Wait a few minutes and try again.")


@bp.route("/login", methods=["GET", "POST"])
@throttle.per_address()
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    if request.method == "GET":
        return render_template("accounts/login.html", email="")
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    client = throttle.client()
    # The same steps and answers whether or not the email has an account: nothing tells which exist.
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    wait = throttle.seconds_to_wait(email, client)
    if wait:
        verify_password(DUMMY_HASH, password)  # same cost either way
        audit.record("login_throttled", user, "user", user.id if user else None, wait=wait)
        return _refused(email, 429, f"Too many wrong passwords. Wait {wait} seconds, then try again.")
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        throttle.failed(email, client)
        unknown = {"email": email[:254]} if user is None else {}
        audit.record("login_failed", user, "user", user.id if user else None, **unknown)
        return _refused(email, 401, "That email and password do not match an active account.")
    throttle.succeeded(email, client)
    user.last_login_at = utcnow()
    sessions.start(user)
    audit.record("login", user, "user", user.id)
    login_user(user)
    return redirect(landing_for(user))


@bp.post("/logout")
@login_required
def logout():
    audit.record("logout", current_user, "user", current_user.id)
    sessions.end()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    end_all_sessions(current_user)
    audit.record("logout_everywhere", current_user, "user", current_user.id)
    sessions.end()
    logout_user()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("auth.login"))


def end_all_sessions(user: User) -> None:
    """Every session cookie of this user stops working, and their open consoles are disconnected."""
    user.session_version = (user.session_version or 1) + 1
    db.session.commit()
    try:
        disconnect_user(user.id)
    except Exception:  # Redis down: the sockets fail their next event anyway (stale session version)
        current_app.logger.warning("could not disconnect sockets of user %s", user.id)


# ---- one-time links to set a password -------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def password_link(user: User) -> str:
    """A link that sets this user's password once: it dies when the password (hash) changes."""
    token = _serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})
    return f"{current_app.config['PUBLIC_BASE_URL']}/set-password/{token}"


def _user_for_token(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=LINK_MAX_AGE)
    except SignatureExpired:
        abort(410, "This link has expired. Ask an admin for a new one.")
    except BadSignature:
        abort(404)
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        abort(410, "This link has already been used. Ask an admin for a new one.")
    return user


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    user = _user_for_token(token)
    error = None
    if request.method == "POST":
        password = request.form.get("password") or ""
        if password != request.form.get("confirm"):
            error = "The two passwords are different."
        else:
            try:
                user.password_hash = hash_password(password)
            except ValueError as exc:
                error = str(exc)
        if error is None:
            end_all_sessions(user)
            audit.record("password_set", user, "user", user.id)
            flash("Your password is set. Sign in with it now.", "info")
            return redirect(url_for("auth.login"))
    return render_template("accounts/set_password.html", user=user, error=error), 400 if error else 200
