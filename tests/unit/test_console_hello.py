"""A console's `hello` (who it is, what it holds, the whole queue: up to hundreds of rows) goes to that
one socket, which is connected to the process that builds it. Through the Redis message queue it was
JSON-encoded once more, published, and decoded by every web process's listener, each finding no such
socket (issue 17, "Growth": connecting consoles cost more the longer the queue). Over real WebSocket
against the in-process app, real Redis and SQL."""
from __future__ import annotations

import json
import time

import pytest

from tests.support.team import on_shift
from tests.support.texting import console_opener, inbound_params, post_signed
from textline.extensions import socketio
from textline.redis_store import get_redis

PASSWORD = "a-long-password"


@pytest.fixture
def consoles(live_app, app_ctx):
    on_shift(PASSWORD, sam="volunteer", dana="supervisor")
    yield from console_opener(live_app.base_url, PASSWORD)


def published_events(pubsub, until: str, timeout: float = 10) -> list[str]:
    """The events published on the Socket.IO channel, up to and including the first `until`."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if got is None:
            continue
        message = json.loads(got["data"])
        if message.get("method") == "emit":
            seen.append(message["event"])
            if message["event"] == until:
                return seen
    raise TimeoutError(f"no {until!r} published within {timeout}s; saw {seen}")


def test_hello_reaches_its_console_without_going_through_the_message_queue(live_app, consoles):
    for i in range(3):
        params = inbound_params(live_app.account_sid, f"+1555010720{i}", f"is anyone there {i}")
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
    pubsub = get_redis().pubsub()
    pubsub.subscribe(socketio.server.manager.channel)
    try:
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        sam = consoles("sam")
        dana = consoles("dana")
        hellos = [c.wait_for("hello") for c in (sam, dana)]
        assert [len(h["queue"]) for h in hellos] == [3, 3]
        assert [h["me"]["role"] for h in hellos] == ["volunteer", "supervisor"]
        # A text now: its broadcasts do go through the queue (other processes' consoles need them), and
        # mark the end of what the two connections published.
        params = inbound_params(live_app.account_sid, "+15550107209", "one more")
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
        published = published_events(pubsub, until="queue_delta")
    finally:
        pubsub.close()
    assert "hello" not in published
    assert sam.wait_for("queue_delta")["put"]["inbound_count"] == 1
