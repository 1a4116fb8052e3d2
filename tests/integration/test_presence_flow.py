"""A volunteer's web process dies mid-conversation (no clean disconnect): after the socket TTL and
the grace period, the beat sweep run by a real worker puts the texter back in the queue and tells
the adults."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.servers import wait_until
from textline.models import AuditEvent, Conversation

TEXTER = "+15550109001"


def test_conversation_returns_to_the_queue_when_the_volunteer_vanishes(live):
    live.user("sam@example.org")
    live.user("dana@example.org", role="supervisor")
    sam = live.console("sam@example.org")
    live.text_in(TEXTER, "hello? is this the teen line")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]

    live.webs[0].kill()  # SIGKILL: Sam's socket is never closed cleanly
    sam.close()
    live.restart_web(0)
    dana = live.console("dana@example.org")
    live.track(dana)

    def swept():
        live.run_task("workers.presence.sweep_absent")
        with live.db() as s:
            return s.get(Conversation, conv_id).status == "waiting"

    wait_until(swept, timeout=30, interval=1, what="conversation handed back")
    notice = dana.wait_for("notice", lambda n: n["kind"] == "requeued")
    assert notice["conversation_id"] == conv_id
    with live.db() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "conversation.requeue",
                                                 AuditEvent.target_id == conv_id))
    assert live.redis().zrange("tl:queue", 0, -1) == [str(conv_id)]
