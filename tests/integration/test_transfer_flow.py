"""A transfer on the production shape (gunicorn+gevent web, a real Celery worker, Redis, SQL): two
volunteers' consoles as Socket.IO clients; Sam passes a conversation to Alex with a note. The texter's
next text reaches Alex and not Sam, Alex's reply is sent by the worker, and Sam has lost access."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.servers import wait_until
from textline.models import AuditEvent, Conversation, ConversationNote

TEXTER = "+15550109101"
NOTE = "Fight with parents tonight; texter is safe, staying at a friend's. Ask how tomorrow looks."


def test_transfer_moves_conversation_note_and_access(live):
    sam_id, alex_id = live.user("sam@example.org", display_name="Sam"), live.user("alex@example.org", display_name="Alex")
    live.user("dana@example.org", role="supervisor", display_name="Dana")
    sam, alex, dana = (live.console(f"{n}@example.org") for n in ("sam", "alex", "dana"))
    for client in (sam, alex, dana):
        live.track(client)
        client.wait_for("hello")
    live.text_in(TEXTER, "my parents were screaming again, i left")
    conv = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv})["ok"]
    assert sam.call("reply", {"conversation_id": conv, "body": "I'm glad you texted. Are you somewhere safe?",
                              "client_id": "s1"})["ok"]
    wait_until(lambda: len(live.sent_to(TEXTER)) == 2, what="welcome and Sam's reply sent")  # by the worker

    assert [t["name"] for t in sam.call("transfer_targets", {"conversation_id": conv})["targets"]] == ["Alex"]
    res = sam.call("transfer", {"conversation_id": conv, "volunteer_id": alex_id, "note": NOTE})
    assert res["ok"], res

    sam.wait_for("transferred_away", lambda t: t["conversation_id"] == conv and t["to"] == "Alex")
    handed = alex.wait_for("transferred_in", lambda t: t["conversation"]["id"] == conv)
    assert [(n["kind"], n["author"], n["body"]) for n in handed["notes"]] == [("transfer", "Sam", NOTE)]
    assert "I'm glad you texted. Are you somewhere safe?" in [m["body"] for m in handed["messages"]]
    assert dana.wait_for("notice", lambda n: n["kind"] == "transfer")["conversation_id"] == conv

    # The texter's next text reaches Alex (and the adults), not Sam.
    live.text_in(TEXTER, "yeah at my friend's house")
    alex.wait_for("message", lambda m: m["body"] == "yeah at my friend's house")
    dana.wait_for("message", lambda m: m["body"] == "yeah at my friend's house")
    assert sam.call("open", {"conversation_id": conv})["code"] == "forbidden"
    assert sam.call("reply", {"conversation_id": conv, "body": "still here", "client_id": "s2"})["code"] == "forbidden"
    live.text_in("+15550109102", "hello?")  # a later event to Sam proves nothing came to Sam before it
    sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] != conv)
    assert not [m for name, m in sam.seen if name == "message" and m["body"] == "yeah at my friend's house"]

    reply = alex.call("reply", {"conversation_id": conv, "body": "Hi, I'm Alex, I work with Sam. Good you're there.",
                                "client_id": "a1"})
    assert reply["ok"]
    alex.wait_for("message_status", lambda s: s["id"] == reply["message"]["id"] and s["status"] == "delivered")
    sent = [m.body for m in live.sent_to(TEXTER)]
    assert len(sent) == 3 and "Hi, I'm Alex, I work with Sam. Good you're there." in sent  # nothing about the transfer

    r = live.redis()
    assert r.smembers(f"tl:load:{sam_id}") == set() and r.smembers(f"tl:load:{alex_id}") == {str(conv)}
    with live.db() as s:
        assert s.get(Conversation, conv).volunteer_id == alex_id
        assert s.scalar(select(ConversationNote.recipient_id)) == alex_id
        assert s.scalar(select(AuditEvent.details).where(AuditEvent.action == "conversation.transfer")) == {
            "from_volunteer_id": sam_id, "to_volunteer_id": alex_id}
