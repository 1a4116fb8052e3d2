"""Admin pages: invite, role change, deactivate, reset; audit log filters; texter export and erasure;
security headers."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import inbound_params, post_signed
from tests.support.web import Browser, csrf_token, sign_in, signed_in_admin
from textline.extensions import db
from textline.models import AuditEvent, Conversation, TexterPhone, User

NUMBER = "+15550108001"


@pytest.fixture
def admin(live_app, app_ctx):
    return signed_in_admin(live_app.base_url)


def audit_actions(**where):
    q = select(AuditEvent.action).order_by(AuditEvent.id)
    for k, v in where.items():
        q = q.where(getattr(AuditEvent, k) == v)
    return list(db.session.scalars(q))


def test_invite_creates_account_with_a_one_time_link(live_app, admin):
    page = admin.post("/admin/users", data={"email": "New@Example.org", "name": "Nia", "role": "volunteer",
                                            "capacity": "3", "csrf_token": admin.token})
    assert page.status_code == 200
    link = re.search(r'value="(http[^"]+/set-password/[^"]+)"', page.get_data(as_text=True)).group(1)
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.capacity == 3 and user.role == "volunteer"
    assert "user_created" in audit_actions(target_id=user.id)
    path = "/set-password/" + link.rsplit("/", 1)[1]
    nia = Browser(live_app.base_url)
    token = csrf_token(nia, path)
    nia.post(path, data={"password": "nia's long password", "confirm": "nia's long password", "csrf_token": token})
    assert sign_in(nia, "new@example.org", "nia's long password").status_code == 302


def test_bad_invite_input_is_refused_clearly(admin):
    make_user(db.session, "taken@example.org")
    for data, message in [({"email": "nope", "name": "X"}, "email address"),
                          ({"email": "taken@example.org", "name": "X"}, "already has an account"),
                          ({"email": "a@example.org", "name": "X", "role": "god"}, "Unknown role"),
                          ({"email": "a@example.org", "name": "X", "capacity": "99"}, "between 1 and 10"),
                          ({"email": "a@example.org", "name": "X", "pager_phone": "12"}, "E.164")]:
        response = admin.post("/admin/users", data={"role": "volunteer", **data, "csrf_token": admin.token},
                              follow_redirects=True)
        assert message in response.get_data(as_text=True), message
    assert db.session.scalar(select(User).where(User.email == "a@example.org")) is None


def test_role_change_and_deactivation_end_sessions_and_are_audited(live_app, admin):
    sam = make_user(db.session, "sam@example.org")
    sams_browser = Browser(live_app.base_url)
    sign_in(sams_browser, "sam@example.org")
    admin.post(f"/admin/users/{sam.id}", data={"role": "supervisor", "active": "on", "capacity": "2",
                                               "name": "Sam", "csrf_token": admin.token})
    assert sams_browser.get("/console").status_code == 302  # must sign in again under the new role
    admin.post(f"/admin/users/{sam.id}", data={"role": "supervisor", "capacity": "2", "name": "Sam",
                                               "csrf_token": admin.token})
    db.session.expire_all()
    assert db.session.get(User, sam.id).active is False
    assert audit_actions(target_id=sam.id) == ["login", "role_change", "user_deactivated"]
    change = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "role_change"))
    assert change.details == {"before": "volunteer", "after": "supervisor"}


def test_admin_cannot_lock_themselves_out(admin):
    me = db.session.scalar(select(User).where(User.email == "root@example.org"))
    response = admin.post(f"/admin/users/{me.id}", data={"role": "volunteer", "active": "on", "capacity": "2",
                                                         "csrf_token": admin.token}, follow_redirects=True)
    assert "cannot remove your own admin role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).role == "admin"


def test_reset_password_invalidates_the_old_one(live_app, admin):
    sam = make_user(db.session, "sam@example.org")
    page = admin.post(f"/admin/users/{sam.id}/reset-password", data={"csrf_token": admin.token})
    assert "/set-password/" in page.get_data(as_text=True)
    assert sign_in(Browser(live_app.base_url), "sam@example.org").status_code == 401
    assert "password_reset" in audit_actions(target_id=sam.id)


def test_audit_log_filters(admin):
    make_user(db.session, "sam@example.org")
    admin.post("/admin/users", data={"email": "x@example.org", "name": "X", "role": "volunteer",
                                     "csrf_token": admin.token})
    page = admin.get("/admin/audit?action=user_created").get_data(as_text=True)
    assert "<td>user_created</td>" in page and "<td>login</td>" not in page
    assert "login" in admin.get("/admin/audit?actor=root@example.org").get_data(as_text=True)
    assert "Nothing matches" in admin.get("/admin/audit?actor=nobody@example.org").get_data(as_text=True)
    assert admin.get("/admin/audit?since=2026-13-45").status_code == 400


def test_texter_export_and_erasure(live_app, admin):
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, NUMBER, "please help"),
                live_app.auth_token)
    found = admin.post("/admin/texters", data={"number": NUMBER, "csrf_token": admin.token})
    assert found.status_code == 200 and "Texter " in found.get_data(as_text=True)
    assert NUMBER not in found.get_data(as_text=True).replace(f'value="{NUMBER}"', "")
    export = admin.post("/admin/texters/export", data={"number": NUMBER, "csrf_token": admin.token})
    data = json.loads(export.get_data(as_text=True))
    assert [m["body"] for m in data["conversations"][0]["messages"] if m["from"] == "texter"] == ["please help"]
    refused = admin.post("/admin/texters/erase", data={"number": NUMBER, "csrf_token": admin.token},
                         follow_redirects=True)
    assert "Type ERASE" in refused.get_data(as_text=True)
    admin.post("/admin/texters/erase", data={"number": NUMBER, "confirm": "ERASE", "csrf_token": admin.token})
    db.session.expire_all()
    conv = db.session.scalar(select(Conversation))
    assert conv.status == "closed" and all(m.body is None for m in conv.messages)
    assert db.session.scalar(select(TexterPhone)) is None
    assert admin.post("/admin/texters", data={"number": NUMBER, "csrf_token": admin.token}).status_code == 404
    assert {"texter_lookup", "texter_export", "texter_erase"} <= set(audit_actions())


def test_security_headers(live_app, admin):
    page = admin.get("/admin/users")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers  # plain http here
    assert "no-store" not in Browser(live_app.base_url).get("/static/css/textline.css").headers.get("Cache-Control", "")


def test_hsts_when_served_over_https():
    from flask import Flask

    from textline.ops import security

    # A bare app: create_app would rebind the process-wide Socket.IO and Celery objects.
    https_app = Flask(__name__)
    https_app.config["PUBLIC_BASE_URL"] = "https://textline.example.org"
    security.init_app(https_app)
    https_app.add_url_rule("/ping", "ping", lambda: "ok")
    response = https_app.test_client().get("/ping")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_no_inline_scripts_or_styles_in_templates():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for path in root.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline script in {path.name}"
        assert " style=" not in text and not re.search(r"\son[a-z]+=", text), f"inline style/handler in {path.name}"


def test_a_whatsapp_texter_is_found_and_erased_by_their_whatsapp_address(live_app, admin):
    address = f"whatsapp:{NUMBER}"
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, address, "hi"),
                       live_app.auth_token).status_code == 200
    assert admin.post("/admin/texters", data={"number": NUMBER, "csrf_token": admin.token}).status_code == 404
    found = admin.post("/admin/texters", data={"number": address, "csrf_token": admin.token})
    assert found.status_code == 200 and "Texter " in found.get_data(as_text=True)
    admin.post("/admin/texters/erase", data={"number": address, "confirm": "ERASE", "csrf_token": admin.token})
    db.session.expire_all()
    assert db.session.scalar(select(TexterPhone)) is None
