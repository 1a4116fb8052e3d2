"""Bad numbers in a query string, a form or a path are the asker's mistake: 400 with a message that names the
parameter (404 for an id no row can have), never a 500. One table over every route that reads a number."""
from __future__ import annotations

import pytest

from tests.support.state import PASSWORD, make_user
from tests.support.texting import console_opener
from tests.support.web import Browser, signed_in_admin
from textline.extensions import db

HUGE = "9" * 30  # past every integer type SQLite and PostgreSQL have
BAD_NUMBERS = ["²", "abc", "-1", "1.5", " 3", HUGE]


@pytest.fixture
def admin(live_app, app_ctx):
    return signed_in_admin(live_app.base_url)


@pytest.mark.parametrize("value", BAD_NUMBERS + ["0"])
@pytest.mark.parametrize("name", ["page", "target_id"])
def test_audit_log_refuses_a_bad_number_with_400(admin, name, value):
    response = admin.get("/admin/audit", params={name: value})
    assert response.status_code == 400, response.text[:300]
    assert name in response.text and "whole number" in response.text


def test_audit_log_still_reads_good_numbers(admin):
    assert admin.get("/admin/audit", params={"page": "2", "target_id": "7", "action": "x"}).status_code == 200
    assert admin.get("/admin/audit", params={"page": "", "target_id": ""}).status_code == 200


@pytest.mark.parametrize("path, name", [("/admin/audit?since={v}", "YYYY-MM-DD"), ("/admin/audit?until={v}", "YYYY-MM-DD"),
                                        ("/insights?from={v}", "start date"), ("/insights/export.csv?to={v}", "end date"),
                                        ("/insights/export.csv?what={v}", "what")])
@pytest.mark.parametrize("value", ["²⁰²⁶-01-01", "2026-13-01", HUGE])
def test_dates_and_choices_are_checked_too(admin, path, name, value):
    response = admin.get(path.format(v=value))
    assert response.status_code == 400 and name in response.text


@pytest.mark.parametrize("path", ["/admin/users/{id}", "/admin/saved-replies/{id}"])
def test_an_id_no_row_can_have_is_not_found(admin, path):
    assert admin.get(path.format(id=HUGE)).status_code == 404
    assert admin.get(path.format(id=2**31)).status_code == 404


@pytest.mark.parametrize("path", ["/admin/users/{id}", "/admin/users/{id}/reset-password",
                                  "/admin/users/{id}/sign-out", "/admin/saved-replies/{id}",
                                  "/admin/saved-replies/{id}/active"])
def test_posting_to_an_id_no_row_can_have_is_not_found(admin, path):
    assert admin.post(path.format(id=HUGE), data={"csrf_token": admin.token}).status_code == 404


@pytest.mark.parametrize("value", ["²", "abc", HUGE])
def test_admin_capacity_must_be_a_small_whole_number(admin, value):
    page = admin.post("/admin/users", data={"email": "a@example.org", "name": "A", "role": "volunteer",
                                            "capacity": value, "csrf_token": admin.token}, follow_redirects=True)
    assert page.status_code == 200 and "capacity must be" in page.text


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_fake_twilio_page_size_is_checked(live_app, value):
    response = Browser(live_app.base_url).get(f"/fake-twilio/2010-04-01/Accounts/{live_app.account_sid}/Messages.json",
                                              params={"PageSize": value},
                                              auth=(live_app.account_sid, live_app.auth_token))
    assert response.status_code == 400 and "PageSize" in response.text


@pytest.fixture
def consoles(live_app, app_ctx):
    yield from console_opener(live_app.base_url, PASSWORD)


def test_console_events_refuse_ids_no_row_can_have(consoles):
    make_user(db.session, "sam@example.org", "volunteer", on_shift=True)
    sam = consoles("sam")
    for event in ("claim", "open", "reply", "end", "ask_adult", "transfer_targets"):
        answer = sam.call(event, {"conversation_id": HUGE, "body": "hi"})
        assert answer["code"] == "not_found", (event, answer)
