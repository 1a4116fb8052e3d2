"""`flask textline ...` commands."""
from __future__ import annotations

import importlib

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError
from sqlalchemy import func, select

from textline.accounts.passwords import hash_password
from textline.console import canned
from textline.duty import demo as duty_demo
from textline.extensions import db
from textline.models import Role, User
from textline.ops import config_check, retention
from textline.riskmodels import decisions
from textline.texting import queue
from textline.texting.queue_sync import rebuild_queue, reconcile_queue

group = AppGroup("textline", help="Textline administration.")


def create_user(email: str, name: str, role: str, password: str, pager_phone: str | None = None) -> User:
    email = email.strip().lower()
    if role not in {r.value for r in Role}:
        raise ValueError(f"role must be one of {', '.join(r.value for r in Role)}")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise ValueError(f"{email} already has an account")
    user = User(email=email, display_name=name.strip(), role=role, password_hash=hash_password(password),
                pager_phone=pager_phone)
    db.session.add(user)
    db.session.commit()
    return user


@group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", default="volunteer", type=click.Choice([r.value for r in Role]))
@click.password_option()
def create_user_cmd(email, name, role, password):
    """Create an account."""
    try:
        user = create_user(email, name, role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"created {user.role} {user.email}")


@group.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Admin", show_default=True)
@click.password_option()
def create_admin_cmd(email, name, password):
    """Create an admin account (the first account of a new installation)."""
    try:
        user = create_user(email, name, Role.ADMIN.value, password)
    except ValueError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"created admin {user.email}")
    _seed_saved_replies()


DEMO_PASSWORD = "textline-demo"
DEMO_USERS = [
    ("volunteer@demo.textline", "Sam (volunteer)", Role.VOLUNTEER.value, None),
    ("volunteer2@demo.textline", "Alex (volunteer)", Role.VOLUNTEER.value, None),
    ("advisor@demo.textline", "Dana (advisor)", Role.SUPERVISOR.value, "+15550009001"),
    ("admin@demo.textline", "Admin", Role.ADMIN.value, None),
]


@group.command("seed-demo")
def seed_demo():
    """Create demo accounts (password: textline-demo) if they do not exist."""
    for email, name, role, pager in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            create_user(email, name, role, DEMO_PASSWORD, pager)
            click.echo(f"created {role:10} {email}  password: {DEMO_PASSWORD}")
    _seed_saved_replies()
    advisor = db.session.scalar(select(User).where(User.email == "advisor@demo.textline"))
    volunteer = db.session.scalar(select(User).where(User.email == "volunteer@demo.textline"))
    if duty_demo.seed_examples(advisor, volunteer):
        click.echo("added duty-of-care examples: a report decision owed and one reported (see /supervise)")


def _seed_saved_replies() -> None:
    """A new installation (its first admin, or the demo) starts with the starter saved replies."""
    added = canned.seed_starters()
    if added:
        click.echo(f"added {added} starter saved replies (edit them at /admin/saved-replies)")


@group.command("rebuild-queue")
@click.option("--full", is_flag=True,
              help="Replace Redis's queue and volunteer loads outright instead of repairing them. Only when "
                   "no volunteer is claiming at the same time (it can undo a claim in flight).")
def rebuild_queue_cmd(full):
    """Rebuild the Redis queue from SQL (after a Redis outage or restart). Safe while the line is live."""
    try:
        if full:
            click.echo(f"queue replaced from SQL: {rebuild_queue()} waiting")
        else:
            changed = reconcile_queue()
            click.echo(f"queue repaired from SQL: {changed} change(s), {queue_length()} waiting")
    except RedisError as exc:
        raise click.ClickException(f"Redis is unreachable ({exc}); nothing changed. Try again when it is up.")


@group.command("close-idle")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Days without a message (default: IDLE_CLOSE_DAYS).")
def close_idle_cmd(days):
    """Close open conversations nobody has written in for that long (beat does it hourly)."""
    days = days or current_app.config["IDLE_CLOSE_DAYS"]
    click.echo(f"closed {retention.close_idle(days)} conversation(s) idle for {days} days or more")


def _retraining():
    """textline.riskmodels.retraining, imported only when training: it needs scikit-learn, an optional
    dependency no web process or worker should load (hence importlib rather than a top-level import)."""
    try:
        return importlib.import_module("textline.riskmodels.retraining")
    except ModuleNotFoundError as exc:
        if exc.name != "sklearn":
            raise
        raise click.ClickException("training needs scikit-learn: pip install -e '.[train]'") from None


@group.command("train-risk")
@click.option("--shadow", "start_shadow", is_flag=True, help="Put the candidate in shadow at once.")
def train_risk_cmd(start_shadow):
    """Train a candidate risk model on the line's labels and the shipped sets; store it as a candidate."""
    retraining = _retraining()
    model = retraining.train_candidate()
    click.echo(f"candidate risk model {model.id}: trained on "
               + ", ".join(f"{s['source']} ({s['rows']})" for s in model.trained_on["sources"]))
    click.echo(f"{'set':28} {'':9} {'alert R':>7} {'flag R':>6} {'ord. alerted':>12} {'ord. flagged':>12}")
    for name, by_model in model.evaluation.items():
        for which, m in by_model.items():
            click.echo(f"{name:28} {which:9} {_pct(m['alert_recall']):>7} {_pct(m['flag_recall']):>6} "
                       f"{_pct(m['ordinary_alerted']):>12} {_pct(m['ordinary_flagged']):>12}")
    if start_shadow:
        decisions.shadow(model.id, None)
        click.echo(f"model {model.id} is in shadow: it scores every new text beside the live one")
    click.echo("Compare and decide at /admin/risk-models.")


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def queue_length() -> int:
    return queue.length()


@group.command("check-config")
def check_config_cmd():
    """Explain every missing or unsafe setting; exits 1 if any would be unsafe to run with."""
    report = config_check.check_environment()
    click.echo(config_check.render(report))
    if config_check.has_errors(report):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(group)
