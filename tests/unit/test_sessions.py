"""Sign-in sessions end for real: after sign-out the old cookie and the old socket are refused; a session
times out after SESSION_IDLE_MINUTES without use and SESSION_MAX_HOURS after sign-in. Real HTTP and
WebSocket against the in-process app, real Redis and SQL."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
import socketio
from sqlalchemy import select, update

from tests.support.state import PASSWORD, make_user
from tests.support.texting import ConsoleClient, inbound_params, login, post_signed
from tests.support.web import Browser, csrf_token
from textline.extensions import db
from textline.models import Conversation, UserSession, utcnow


@pytest.fixture
def sam(app_ctx):
    return make_user(db.session, "sam@example.org", on_shift=True)


def cookie_copy(session: requests.Session) -> requests.Session:
    """Someone who copied the cookie before sign-out (or the same shared computer's stale tab)."""
    other = requests.Session()
    other.cookies.update(session.cookies)
    return other


def sign_out(live_app, session: requests.Session) -> None:
    browser = Browser(live_app.base_url)
    browser.session = session
    assert browser.post("/logout", data={"csrf_token": csrf_token(browser, "/console")}).status_code == 302


def wait_until(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_after_sign_out_the_old_cookie_and_the_old_socket_are_refused(live_app, sam):
    desk = login(live_app.base_url, "sam@example.org", PASSWORD)
    stale = cookie_copy(desk)
    elsewhere = login(live_app.base_url, "sam@example.org", PASSWORD)  # Sam at home, another session
    console = ConsoleClient(live_app.base_url, desk)
    console.wait_for("hello")
    home = ConsoleClient(live_app.base_url, elsewhere)
    home.wait_for("hello")
    assert stale.get(live_app.base_url + "/console", allow_redirects=False).status_code == 200

    sign_out(live_app, desk)

    assert stale.get(live_app.base_url + "/console", allow_redirects=False).status_code == 302
    assert wait_until(lambda: not console.sio.connected), "the signed-out socket is still connected"
    with pytest.raises(socketio.exceptions.ConnectionError):
        ConsoleClient(live_app.base_url, stale)  # a new socket with the old cookie is refused too
    # Only that session ended: Sam's other sign-in still works and still hears the queue.
    assert elsewhere.get(live_app.base_url + "/console", allow_redirects=False).status_code == 200
    assert post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, "+15550108001",
                                                                         "hi"), live_app.auth_token).ok
    [waiting] = home.wait_for("queue_view", lambda q: len(q) == 1)
    assert home.call("claim", {"conversation_id": waiting["id"]})["ok"]
    home.close()


def test_a_signed_out_socket_that_stayed_connected_can_do_nothing(live_app, sam, cfg):
    """If Redis could not reach the socket at sign-out, every action is refused and the next heartbeat
    cuts it."""
    desk = login(live_app.base_url, "sam@example.org", PASSWORD)
    console = ConsoleClient(live_app.base_url, desk)
    console.wait_for("hello")
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, "+15550108002", "hi"),
                live_app.auth_token)
    db.session.expire_all()
    conv = db.session.scalar(select(Conversation.id))
    db.session.execute(update(UserSession).values(ended_at=utcnow()))  # ended, sockets not told
    db.session.commit()
    for event in ("claim", "open"):
        refused = console.call(event, {"conversation_id": conv})
        assert refused["code"] == "unauthenticated", refused
    console.sio.emit("heartbeat", {})  # the server cuts the socket instead of answering
    assert wait_until(lambda: not console.sio.connected)


@pytest.mark.parametrize("column, age", [("last_seen_at", "SESSION_IDLE_MINUTES"),
                                         ("created_at", "SESSION_MAX_HOURS")])
def test_sessions_time_out_when_idle_and_when_old(live_app, sam, column, age):
    desk = login(live_app.base_url, "sam@example.org", PASSWORD)
    console = ConsoleClient(live_app.base_url, desk)
    console.wait_for("hello")
    limit = live_app.app.config[age]
    past = utcnow() - (timedelta(minutes=limit) if age == "SESSION_IDLE_MINUTES" else timedelta(hours=limit))
    db.session.execute(update(UserSession).values({column: past - timedelta(seconds=1)}))
    db.session.commit()
    assert desk.get(live_app.base_url + "/console", allow_redirects=False).status_code == 302
    console.sio.emit("heartbeat", {})  # the server cuts the socket instead of answering
    assert wait_until(lambda: not console.sio.connected)


def test_actions_keep_a_session_alive_and_heartbeats_do_not(live_app, sam):
    desk = login(live_app.base_url, "sam@example.org", PASSWORD)
    console = ConsoleClient(live_app.base_url, desk)
    console.wait_for("hello")
    half = utcnow() - timedelta(minutes=live_app.app.config["SESSION_IDLE_MINUTES"] / 2)
    db.session.execute(update(UserSession).values(last_seen_at=half))
    db.session.commit()

    assert console.call("heartbeat", {}) == {"ok": True}
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.last_seen_at)) == half  # a console left open is not use

    assert console.call("shift", {"on": True})["ok"]  # the person did something
    db.session.expire_all()
    assert utcnow() - db.session.scalar(select(UserSession.last_seen_at)) < timedelta(minutes=1)
    console.close()
