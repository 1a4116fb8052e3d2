"""A volunteer who vanishes: after the grace period their conversations go back to the queue, at the
front for their risk level, and the adults are told."""
from __future__ import annotations

import time
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import ConsoleClient, inbound_params, login, post_signed
from textline.accounts import presence
from textline.extensions import db
from textline.models import AuditEvent, Conversation, User
from textline.texting import queue
from workers.presence import sweep_absent


def _text(live_app, number, body="hi"):
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                live_app.auth_token)
    return db.session.scalar(select(Conversation.id).order_by(Conversation.id.desc()))


def _console(live_app, email):
    return ConsoleClient(live_app.base_url, login(live_app.base_url, email, "a-long-password"))


def test_disconnected_volunteer_s_conversation_returns_to_the_front_after_grace(live_app, app_ctx):
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    make_user(db.session, "dana@example.org", "supervisor")
    held = _text(live_app, "+15550106001")
    console = _console(live_app, "sam@example.org")
    assert console.call("claim", {"conversation_id": held})["ok"]
    # Meanwhile someone else starts waiting (later, same risk).
    later = _text(live_app, "+15550106002")
    dana = _console(live_app, "dana@example.org")
    try:
        console.close()
        time.sleep(0.3)  # let the server run its disconnect handler
        live_app.app.config["PRESENCE_GRACE_SECONDS"] = 3600
        assert sweep_absent.delay().get() == 0  # within the grace period: nothing moves
        live_app.app.config["PRESENCE_GRACE_SECONDS"] = 0
        assert sweep_absent.delay().get() == 1
        notice = dana.wait_for("notice", lambda n: n["kind"] == "requeued")
        assert notice["conversation_id"] == held and notice["reason"] == "disconnected"
    finally:
        live_app.app.config["PRESENCE_GRACE_SECONDS"] = 60
        dana.close()
    db.session.expire_all()
    conv = db.session.get(Conversation, held)
    assert conv.status == "waiting" and conv.volunteer_id is None
    assert queue.ordered_ids() == [held, later]  # back at the front
    assert db.session.get(User, sam.id).on_shift is False
    assert queue.load_key(sam.id) not in {k for k in queue.get_redis().keys("tl:load:*")}
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == held,
                                                             AuditEvent.action == "conversation.requeue"))


def test_connected_volunteer_keeps_their_conversations(live_app, app_ctx):
    make_user(db.session, "sam@example.org", on_shift=True)
    held = _text(live_app, "+15550106003")
    console = _console(live_app, "sam@example.org")
    try:
        assert console.call("claim", {"conversation_id": held})["ok"]
        live_app.app.config["PRESENCE_GRACE_SECONDS"] = 0
        assert sweep_absent.delay().get() == 0
    finally:
        live_app.app.config["PRESENCE_GRACE_SECONDS"] = 60
        console.close()
    assert db.session.get(Conversation, held).status == "active"


def test_a_console_that_stops_beating_counts_as_gone(app_ctx):
    """A web process killed without running disconnect handlers: the socket key simply expires."""
    presence.connected(7, "sid-1")
    assert presence.is_present(7) and presence.away_for(7) is None
    presence.get_redis().delete(presence._socket_key(7, "sid-1"))  # what the TTL does
    t0 = time.time()
    assert presence.away_for(7, now=t0) == 0          # the sweep starts the clock...
    assert presence.away_for(7, now=t0 + 30) == 30    # ...and measures from it
    assert not presence.is_present(7)


def test_reconnecting_clears_the_away_mark(app_ctx):
    presence.connected(8, "a")
    presence.disconnected(8, "a")
    assert presence.away_for(8) is not None
    presence.connected(8, "b")
    assert presence.away_for(8) is None


def test_present_among_finds_open_consoles_in_one_pass(app_ctx):
    from textline.accounts import presence

    presence.connected(3, "sid-a")
    presence.connected(3, "sid-b")
    presence.connected(31, "sid-c")
    assert presence.present_among([3, 4, 31]) == {3, 31}
    presence.disconnected(3, "sid-a")
    presence.disconnected(3, "sid-b")
    assert presence.present_among([3]) == set()  # 31's console does not count for 3
    presence.connected(3, "sid-a")
    assert presence.present_among([4, 13]) == set() and presence.present_among([]) == set()
    presence.disconnected(31, "sid-c")
    assert presence.present_among([3, 31]) == {3}
