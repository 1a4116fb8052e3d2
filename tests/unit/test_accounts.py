"""Sign-in, sign-out everywhere, one-time password links, CSRF, cookies, admin CLI."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.support.state import PASSWORD, make_user
from tests.support.web import Browser, csrf_token, sign_in
from textline.extensions import db
from textline.models import AuditEvent, User


@pytest.fixture
def client(live_app):
    return Browser(live_app.base_url)


@pytest.fixture
def sam(app_ctx):
    return make_user(db.session, "sam@example.org")


def actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_sign_in_and_out(client, sam):
    assert client.get("/console").status_code == 302  # to the login page
    response = sign_in(client, "SAM@example.org")  # email is case-insensitive
    assert response.status_code == 302 and response.headers["Location"].endswith("/console")
    assert client.get("/console").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/console")})
    assert client.get("/console").status_code == 302
    assert actions() == ["login", "logout"]


def test_wrong_password_and_unknown_email_look_the_same(client, sam):
    wrong = sign_in(client, "sam@example.org", "not-the-password")
    unknown = sign_in(client, "nobody@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True) and "do not match" in unknown.get_data(as_text=True)
    assert actions() == ["login_failed", "login_failed"]


def test_sign_out_everywhere_ends_other_sessions(live_app, sam):
    laptop, phone = Browser(live_app.base_url), Browser(live_app.base_url)
    sign_in(laptop, "sam@example.org")
    sign_in(phone, "sam@example.org")
    assert phone.get("/console").status_code == 200
    laptop.post("/logout-everywhere", data={"csrf_token": csrf_token(laptop, "/console")})
    assert phone.get("/console").status_code == 302
    assert laptop.get("/console").status_code == 302


def test_deactivated_account_cannot_sign_in_or_keep_its_session(live_app, client, sam):
    sign_in(client, "sam@example.org")
    db.session.refresh(sam)
    sam.active = False
    db.session.commit()
    assert client.get("/console").status_code == 302
    assert sign_in(Browser(live_app.base_url), "sam@example.org").status_code == 401


def test_password_link_works_once(live_app, client, sam):
    from textline.accounts.auth import password_link

    link = password_link(sam).split("127.0.0.1", 1)[1].split("/", 1)[1]
    path = "/" + link
    assert client.get(path).status_code == 200
    token = csrf_token(client, path)
    short = client.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 400 and "at least 10" in short.get_data(as_text=True)
    mismatch = client.post(path, data={"password": "x" * 12, "confirm": "y" * 12, "csrf_token": token})
    assert mismatch.status_code == 400
    done = client.post(path, data={"password": "a new long password", "confirm": "a new long password",
                                   "csrf_token": token})
    assert done.status_code == 302
    assert client.get(path).status_code == 410  # used: the hash it was bound to has changed
    assert sign_in(Browser(live_app.base_url), "sam@example.org", "a new long password").status_code == 302
    assert client.get("/set-password/forged-token").status_code == 404


def test_csrf_is_required_on_forms_and_json(client, sam):
    assert client.post("/login", data={"email": "sam@example.org", "password": PASSWORD}).status_code == 400
    sign_in(client, "sam@example.org")
    assert client.post("/logout").status_code == 400
    assert client.post("/simulator/send", json={"number": "+15550100000", "body": "hi"}).status_code == 400
    token = csrf_token(client, "/console")
    assert client.post("/simulator/send", json={"number": "bad", "body": "hi"},
                       headers={"X-CSRFToken": token}).status_code == 400  # past CSRF, refused for the number


def test_session_cookie_flags(client, sam):
    response = sign_in(client, "sam@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_behind_https():
    from textline.config import load_config

    cfg = load_config({"PUBLIC_BASE_URL": "https://textline.example.org", "SECRET_KEY": "k" * 48})
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"]
    assert not load_config({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"})["SESSION_COOKIE_SECURE"]


def test_create_admin_cli(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["textline", "create-admin", "--email", "Root@Example.org", "--password",
                                 "correct horse battery"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "root@example.org"))
        assert admin.role == "admin" and admin.password_hash.startswith("$argon2")
    again = runner.invoke(args=["textline", "create-admin", "--email", "root@example.org", "--password",
                                "correct horse battery"])
    assert again.exit_code != 0 and "already has an account" in again.output
    short = runner.invoke(args=["textline", "create-admin", "--email", "x@example.org", "--password", "short"])
    assert short.exit_code != 0 and "at least 10" in short.output


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"])
def test_login_page_does_not_redirect_elsewhere(client, sam, target):
    """?next= is only ever a path on this site: a crafted link cannot bounce a volunteer to another site."""
    token = csrf_token(client, "/login")
    response = client.post("/login", params={"next": target},
                           data={"email": "sam@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/console")


def test_signing_in_from_a_link_lands_on_it(client, sam):
    """The link in an SMS page (/supervise?conversation=N) leads to sign-in, then back to that page."""
    sam.role = "supervisor"
    db.session.commit()
    first = client.get("/supervise?conversation=7")
    assert first.status_code == 302 and "/login?next=" in first.headers["Location"]
    token = csrf_token(client, "/login")
    login = urlsplit(first.headers["Location"])
    response = client.post(f"{login.path}?{login.query}",
                           data={"email": "sam@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/supervise?conversation=7")
