"""Saved replies: the starter set, the admin pages (create, edit, deactivate, validation, CSRF, audit)
and the list the console picker reads, over real HTTP against the in-process app."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.web import Browser, csrf_token, sign_in, signed_in_admin
from textline.console import canned
from textline.extensions import db
from textline.models import AuditEvent, CannedResponse


@pytest.fixture
def admin(live_app, app_ctx):
    return signed_in_admin(live_app.base_url, "/admin/saved-replies", display_name="Root")


def replies() -> dict[str, CannedResponse]:
    db.session.expire_all()
    return {r.title: r for r in db.session.scalars(select(CannedResponse))}


def audit_trail() -> list[tuple]:
    db.session.expire_all()
    return [(e.action, e.target_id, (e.details or {}).get("changed"))
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("canned.%"))
                                        .order_by(AuditEvent.id))]


def test_starter_set_is_seeded_once_and_asks_about_suicide_directly(app_ctx):
    starters = canned.load_starters()
    assert canned.seed_starters() == len(starters) >= 8
    by_title = replies()
    assert {r.category for r in by_title.values()} >= {"Opening", "Listening", "Safety", "Check-in", "Closing"}
    assert "Are you thinking about suicide?" in by_title["Ask about suicide"].body
    assert all(r.active and r.updated_by_id is None for r in by_title.values())
    # Seeding again (a second create-admin, a demo restart) adds nothing, and never overrules an admin
    # who changed or removed the starters.
    db.session.delete(by_title["Closing"])
    db.session.commit()
    assert canned.seed_starters() == 0
    assert "Closing" not in replies()
    assert [a for a, _, _ in audit_trail()] == ["canned.seed"]


def test_a_broken_starter_file_is_refused_before_anything_is_stored(app_ctx, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- title: Hello\n  body: hi\n- title: hello\n  body: again\n")
    with pytest.raises(ValueError, match="unique title"):
        canned.seed_starters(bad)
    bad.write_text("- title: Hello\n  text: hi\n")
    with pytest.raises(ValueError, match="expected title, body"):
        canned.seed_starters(bad)
    assert replies() == {}


def test_seed_demo_and_create_admin_give_the_starter_set(live_app, app_ctx):
    runner = live_app.app.test_cli_runner()
    result = runner.invoke(args=["textline", "create-admin", "--email", "first@example.org"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "starter saved replies" in result.output
    count = len(replies())
    assert count == len(canned.load_starters())
    result = runner.invoke(args=["textline", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert len(replies()) == count  # once only


def test_admin_creates_edits_and_deactivates_a_saved_reply(admin):
    page = admin.get("/admin/saved-replies")
    assert page.status_code == 200 and "No saved replies yet." in page.text
    made = admin.post("/admin/saved-replies", data={"title": "  Breathing   together ", "category": "Coping",
                                                    "body": "Want to try a slow breath with me?\r\nIn for 4, out for 6.",
                                                    "csrf_token": admin.token})
    assert made.status_code == 303
    reply = replies()["Breathing together"]
    assert reply.body == "Want to try a slow breath with me?\nIn for 4, out for 6." and reply.category == "Coping"
    assert reply.updated_by.email == "root@example.org"

    listed = admin.get("/admin/saved-replies", follow_redirects=True).text
    assert "Added “Breathing together”." in listed and "Want to try a slow breath" in listed
    edit = admin.get(f"/admin/saved-replies/{reply.id}")
    assert edit.status_code == 200 and 'value="Breathing together"' in edit.text

    saved = admin.post(f"/admin/saved-replies/{reply.id}", data={
        "title": "Breathing together", "category": "Coping", "body": "Shall we take one slow breath together?",
        "active": "on", "csrf_token": admin.token})
    assert saved.status_code == 303
    assert replies()["Breathing together"].body == "Shall we take one slow breath together?"
    # Saving the same values again changes nothing and records nothing.
    admin.post(f"/admin/saved-replies/{reply.id}", data={
        "title": "Breathing together", "category": "Coping", "body": "Shall we take one slow breath together?",
        "active": "on", "csrf_token": admin.token})

    off = admin.post(f"/admin/saved-replies/{reply.id}/active", data={"active": "0", "csrf_token": admin.token})
    assert off.status_code == 303 and replies()["Breathing together"].active is False
    assert "deactivated" in admin.get("/admin/saved-replies").text
    admin.post(f"/admin/saved-replies/{reply.id}/active", data={"active": "1", "csrf_token": admin.token})
    assert replies()["Breathing together"].active is True
    assert audit_trail() == [("canned.create", reply.id, None), ("canned.update", reply.id, ["body"]),
                             ("canned.deactivate", reply.id, ["active"]), ("canned.activate", reply.id, ["active"])]
    assert admin.get("/admin/saved-replies/99999").status_code == 404


@pytest.mark.parametrize("data,field,message", [
    ({"title": "", "body": "hi"}, "title", "Give it a short title"),
    ({"title": "x" * 81, "body": "hi"}, "title", "The title is too long (81 characters, 80 at most)."),
    ({"title": "GREETING", "body": "hi"}, "title", "Another saved reply is already called “Greeting”."),
    ({"title": "New", "body": "   "}, "body", "Write the text of the reply."),
    ({"title": "New", "body": "y" * 1601}, "body", "The text is too long (1601 characters, 1600 at most"),
    ({"title": "New", "body": "hi", "category": "c" * 41}, "category", "The category is too long"),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(admin, data, field, message):
    db.session.add(CannedResponse(title="Greeting", body="Hello"))
    db.session.commit()
    page = admin.post("/admin/saved-replies", data={**data, "csrf_token": admin.token})
    assert page.status_code == 400
    assert 'data-testid="form-errors"' in page.text and message in page.text
    assert re.search(rf'id="new-{field}"[^>]*aria-invalid="true" aria-describedby="new-{field}-error"', page.text)
    if data["title"] == "New":  # what the admin typed is kept for them to fix
        assert 'value="New"' in page.text
    assert set(replies()) == {"Greeting"} and audit_trail() == []


def test_editing_refuses_a_duplicate_title_but_allows_keeping_its_own(admin):
    db.session.add_all([CannedResponse(title="Greeting", body="Hello"), CannedResponse(title="Closing", body="Bye")])
    db.session.commit()
    closing = replies()["Closing"]
    page = admin.post(f"/admin/saved-replies/{closing.id}", data={"title": "greeting", "body": "Bye",
                                                                   "active": "on", "csrf_token": admin.token})
    assert page.status_code == 400 and "Another saved reply is already called “Greeting”." in page.text
    ok = admin.post(f"/admin/saved-replies/{closing.id}", data={"title": "closing", "body": "Bye",
                                                                 "active": "on", "csrf_token": admin.token})
    assert ok.status_code == 303 and "closing" in replies()


def test_admin_forms_need_the_csrf_token(admin):
    assert admin.post("/admin/saved-replies", data={"title": "T", "body": "B"}).status_code == 400
    assert replies() == {}


def test_volunteers_read_only_active_replies_and_cannot_edit(live_app, app_ctx):
    db.session.add_all([CannedResponse(title="Greeting", body="Hi there", category="Opening"),
                        CannedResponse(title="Old one", body="unused", active=False),
                        CannedResponse(title="Ask about suicide", body="Are you thinking about suicide?",
                                       category="Safety")])
    db.session.commit()
    make_user(db.session, "sam@example.org")
    sam = Browser(live_app.base_url)
    sign_in(sam, "sam@example.org")
    got = sam.get("/api/saved-replies").json()["replies"]
    assert [(r["title"], r["category"]) for r in got] == [("Greeting", "Opening"), ("Ask about suicide", "Safety")]
    assert set(got[0]) == {"id", "title", "body", "category"}
    token = csrf_token(sam, "/console")
    assert sam.post("/admin/saved-replies", data={"title": "Mine", "body": "x", "csrf_token": token}).status_code == 403
    assert sam.post(f"/admin/saved-replies/{got[0]['id']}/active",
                    data={"active": "0", "csrf_token": token}).status_code == 403
    assert replies()["Greeting"].active and "Mine" not in replies()
    assert Browser(live_app.base_url).get("/api/saved-replies").status_code == 302  # signed out: to the login page
