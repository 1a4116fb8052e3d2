"""Sign-in throttling: per (email, client) waits that grow, the same answers for known and unknown emails,
a per-address limit that counts each real client behind the proxy, and an admin who can lift a wait.
Real HTTP against the in-process app (one trusted proxy, as behind docker-compose's nginx), real Redis."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from tests.support.state import PASSWORD, make_user
from tests.support.web import Browser, csrf_token, sign_in
from textline.accounts import throttle
from textline.extensions import db
from textline.models import AuditEvent
from textline.redis_store import get_redis, key

ATTACKER, SAM_AT_THE_LINE = "203.0.113.9", "198.51.100.7"


@pytest.fixture
def sam(app_ctx):
    return make_user(db.session, "sam@example.org")


def attempt(live_app, email, password, client):
    browser = Browser(live_app.base_url)
    browser.session.headers["X-Forwarded-For"] = client
    return sign_in(browser, email, password)


def flash(response) -> str:
    return re.sub(r"\s+", " ", re.search(r'class="flash[^"]*"[^>]*>(.*?)</', response.text, re.S).group(1)).strip()


def _record(email, client) -> str:
    return key("login", "wait", client, email)


def wait_over(email, client):
    """Let a wait run out without sleeping through it."""
    get_redis().hset(_record(email, client), "until", 0)


def still_waiting(email, client):
    """Keep a wait on however slow this machine is today."""
    get_redis().hset(_record(email, client), "until", time.time() + 60)


def imposed_wait(email, client) -> int:
    """The wait the last failure set, in whole seconds."""
    data = get_redis().hgetall(_record(email, client))
    return round(float(data["until"]) - float(data["last"]))


def test_someone_else_s_guesses_never_lock_the_owner_out(live_app, sam):
    codes = [attempt(live_app, "sam@example.org", "guess-guess-guess", ATTACKER).status_code for _ in range(8)]
    assert codes[:throttle.FREE_FAILURES] == [401] * throttle.FREE_FAILURES and 429 in codes
    assert attempt(live_app, "sam@example.org", PASSWORD, SAM_AT_THE_LINE).status_code == 302
    # The guesser is still slowed down, even with the right password.
    still_waiting("sam@example.org", ATTACKER)
    assert attempt(live_app, "sam@example.org", PASSWORD, ATTACKER).status_code == 429


def test_known_and_unknown_emails_get_the_same_answers(live_app, sam):
    def answers(email, client):
        out = [attempt(live_app, email, "guess-guess-guess", client) for _ in range(throttle.FREE_FAILURES)]
        still_waiting(email, client)
        out.append(attempt(live_app, email, "guess-guess-guess", client))
        return [(r.status_code, re.sub(r"\d+", "N", flash(r))) for r in out]

    known, unknown = answers("sam@example.org", "192.0.2.1"), answers("nobody@example.org", "192.0.2.2")
    assert known == unknown, (known, unknown)
    assert [code for code, _ in known] == [401] * throttle.FREE_FAILURES + [429]
    assert imposed_wait("sam@example.org", "192.0.2.1") == imposed_wait("nobody@example.org", "192.0.2.2")


def test_failures_before_the_first_wait_are_free_then_waits_double(live_app, sam):
    waits = []
    for _ in range(throttle.FREE_FAILURES + 3):
        assert attempt(live_app, "sam@example.org", "guess-guess-guess", ATTACKER).status_code == 401
        waits.append(imposed_wait("sam@example.org", ATTACKER))
        if waits[-1]:  # during a wait even the right password is refused, with how long is left
            still_waiting("sam@example.org", ATTACKER)
            refused = attempt(live_app, "sam@example.org", PASSWORD, ATTACKER)
            assert refused.status_code == 429 and re.search(r"Wait \d+ seconds", flash(refused))
            wait_over("sam@example.org", ATTACKER)
    first = throttle.FIRST_WAIT
    assert waits == [0] * (throttle.FREE_FAILURES - 1) + [first, first * 2, first * 4, first * 8]
    assert throttle.wait_after(100) == throttle.MAX_WAIT  # never longer than that
    assert attempt(live_app, "sam@example.org", PASSWORD, ATTACKER).status_code == 302
    assert throttle.current() == []  # a success forgets that client's failures


def test_the_per_address_limit_counts_each_client_behind_the_proxy(live_app, sam):
    codes = [attempt(live_app, f"nobody{i}@example.org", "guess-guess-guess", ATTACKER).status_code
             for i in range(throttle.IP_LIMIT + 1)]
    assert codes == [401] * throttle.IP_LIMIT + [429]
    assert attempt(live_app, "sam@example.org", PASSWORD, SAM_AT_THE_LINE).status_code == 302


def test_an_admin_sees_and_lifts_a_wait(live_app, sam):
    make_user(db.session, "eve@example.org", role="admin")
    for _ in range(throttle.FREE_FAILURES + 1):
        attempt(live_app, "sam@example.org", "guess-guess-guess", SAM_AT_THE_LINE)
    assert attempt(live_app, "sam@example.org", PASSWORD, SAM_AT_THE_LINE).status_code == 429

    admin = Browser(live_app.base_url)
    sign_in(admin, "eve@example.org")
    page = admin.get("/admin/sign-in-waits").text
    assert "sam@example.org" in page and SAM_AT_THE_LINE in page
    lifted = admin.post("/admin/sign-in-waits/lift", data={"email": "sam@example.org", "client": SAM_AT_THE_LINE,
                                                           "csrf_token": csrf_token(admin, "/admin/sign-in-waits")})
    assert lifted.status_code == 303
    assert "No wrong passwords on record" in admin.get("/admin/sign-in-waits").text
    assert attempt(live_app, "sam@example.org", PASSWORD, SAM_AT_THE_LINE).status_code == 302
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_wait_lifted"))
    assert event.details == {"email": "sam@example.org", "client": SAM_AT_THE_LINE, "lifted": 1}
