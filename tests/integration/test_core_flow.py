"""Issue 2 end to end, on the production shape: gunicorn+gevent web, Celery worker, Redis, SQL, fake Twilio."""
from __future__ import annotations

import json
import re
import threading
import time

import requests
from sqlalchemy import select

from tests.support.servers import wait_until
from tests.support.texting import wrap_up
from textline.models import Conversation, Message

TEXTER = "+15550106543"


def outbound(live, number=TEXTER, kind=None):
    with live.db() as s:
        q = select(Message).join(Conversation).where(Message.direction == "out")
        return s.scalars(q.where(Message.kind == kind) if kind else q).all()


def test_texter_to_volunteer_and_back(live):
    live.user("sam@example.org")
    sam = live.console("sam@example.org")
    live.track(sam)
    hello = sam.wait_for("hello")
    assert hello["queue"] == []

    assert live.text_in(TEXTER, "hey. i don't know who else to talk to").status_code == 200
    queue = sam.wait_for("queue_view", lambda q: len(q) == 1)
    conv_id = queue[0]["id"]
    assert queue[0]["alias"].startswith("Texter ")

    claimed = sam.call("claim", {"conversation_id": conv_id})
    assert claimed["ok"], claimed
    assert [m["body"] for m in claimed["messages"] if m["direction"] == "in"] == [
        "hey. i don't know who else to talk to"]
    sam.wait_for("queue_view", lambda q: q == [])

    sent = sam.call("reply", {"conversation_id": conv_id, "body": "I'm glad you texted. I'm Sam.",
                              "client_id": "c-1"})
    assert sent["ok"], sent
    reply_id = sent["message"]["id"]
    # The reply travels: worker -> twilio client -> fake Twilio -> signed status callbacks -> console.
    sam.wait_for("message_status", lambda s: s["id"] == reply_id and s["status"] == "delivered", timeout=20)
    texts = {m.body: m for m in live.sent_to(TEXTER)}
    assert list(texts).count("I'm glad you texted. I'm Sam.") == 1
    assert len(texts) == 2  # the welcome, then Sam's reply
    assert texts["I'm glad you texted. I'm Sam."].to == TEXTER

    # The texter answers: it reaches Sam live, in the same conversation.
    live.text_in(TEXTER, "thanks sam")
    msg = sam.wait_for("message", lambda m: m["body"] == "thanks sam")
    assert msg["conversation_id"] == conv_id

    # Without a complete wrap-up the end is refused with the reason, and the conversation stays open.
    refused = sam.call("end", {"conversation_id": conv_id, "disposition": {"outcome": "supported"},
                               "note": "talked through a fight with a friend"})
    assert refused == {"ok": False, "code": "wrap_up", "field": "topics", "error": "Choose at least one topic."}
    refused = sam.call("end", {"conversation_id": conv_id, "disposition": wrap_up(topics=["friends", "gossip"])})
    assert not refused["ok"] and refused["error"] == "Unknown topic: 'gossip'."
    with live.db() as s:
        assert s.get(Conversation, conv_id).status == "active"
    ended = sam.call("end", {"conversation_id": conv_id, "disposition": wrap_up(topics=["friends"], resources=["988"]),
                             "note": "talked through a fight with a friend"})
    assert ended["ok"] and ended["conversation"]["status"] == "closed"
    with live.db() as s:
        conv = s.get(Conversation, conv_id)
        assert conv.status == "closed" and conv.wrap_up_note == "talked through a fight with a friend"
        assert conv.disposition == {"outcome": "supported", "topics": ["friends"], "risk": "low",
                                    "resources": ["988"], "follow_up": "none", "by": "volunteer"}


def test_every_volunteer_sees_the_queue_change_live(live):
    for email in ("sam@example.org", "alex@example.org"):
        live.user(email)
    sam, alex = live.console("sam@example.org"), live.console("alex@example.org")
    live.track(sam), live.track(alex)
    live.text_in(TEXTER, "hello?")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    alex.wait_for("queue_view", lambda q: [c["id"] for c in q] == [conv_id])
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    alex.wait_for("queue_view", lambda q: q == [])


def test_two_volunteers_race_to_claim_and_exactly_one_wins(live):
    for email in ("sam@example.org", "alex@example.org"):
        live.user(email)
    sam, alex = live.console("sam@example.org"), live.console("alex@example.org")
    live.track(sam), live.track(alex)
    live.text_in(TEXTER, "anyone?")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    results, go = {}, threading.Barrier(2)

    def race(name, client):
        go.wait()
        results[name] = client.call("claim", {"conversation_id": conv_id})

    threads = [threading.Thread(target=race, args=x) for x in (("sam", sam), ("alex", alex))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winners = [name for name, r in results.items() if r["ok"]]
    assert len(winners) == 1, results
    loser = results["alex" if winners == ["sam"] else "sam"]
    assert loser["code"] == "taken"
    with live.db() as s:
        assert s.get(Conversation, conv_id).volunteer_id is not None


def test_queue_order_follows_risk_then_wait(live):
    live.user("sam@example.org")
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in("+15550100001", "hi, first one here, just bored")
    live.text_in("+15550100002", "second, having a rough week with school")
    live.text_in("+15550100003", "i have the pills in my hand and i want to kill myself tonight")
    queue = sam.wait_for("queue_view", lambda q: len(q) == 3)
    assert [c["risk_level"] for c in queue][0] == "high"
    ids_in_arrival = sorted(c["id"] for c in queue)
    assert [c["id"] for c in queue] == [ids_in_arrival[2], ids_in_arrival[0], ids_in_arrival[1]]


def test_killed_worker_neither_loses_nor_duplicates_a_reply(live):
    """SIGKILL the worker while its request is inside Twilio; the restarted worker must finish the job
    (acks_late redelivery) and must not text the young person twice (lookup before resend)."""
    live.user("sam@example.org")
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in(TEXTER, "are you there")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    wait_until(lambda: len(live.sent_to(TEXTER)) == 1, what="welcome sent")
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]

    live.faults({"delay": 2.5})  # Twilio is slow: the worker will be killed mid-request
    reply_id = sam.call("reply", {"conversation_id": conv_id, "body": "yes, I'm right here",
                                  "client_id": "k-1"})["message"]["id"]
    wait_until(lambda: outbound_status(live, reply_id) == "submitting", what="send in flight")
    worker = live.workers[0]
    worker.kill()
    live.start_worker(worker)
    sam.wait_for("message_status", lambda s: s["id"] == reply_id and s["status"] == "delivered", timeout=40)
    bodies = [m.body for m in live.sent_to(TEXTER)]
    assert bodies.count("yes, I'm right here") == 1


def test_killed_worker_before_twilio_answered_still_sends_once(live):
    """The killed attempt never reached Twilio (it failed there): the redelivered task sends it once."""
    live.user("sam@example.org")
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in(TEXTER, "hi")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    wait_until(lambda: len(live.sent_to(TEXTER)) == 1, what="welcome sent")
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    live.faults({"delay": 2.5, "status": 500})
    reply_id = sam.call("reply", {"conversation_id": conv_id, "body": "still with you",
                                  "client_id": "k-2"})["message"]["id"]
    wait_until(lambda: outbound_status(live, reply_id) == "submitting", what="send in flight")
    live.workers[0].kill()
    live.start_worker(live.workers[0])
    sam.wait_for("message_status", lambda s: s["id"] == reply_id and s["status"] == "delivered", timeout=40)
    assert [m.body for m in live.sent_to(TEXTER)].count("still with you") == 1


def outbound_status(live, message_id):
    with live.db() as s:
        return s.get(Message, message_id).status


def _number_patterns(number: str) -> list[re.Pattern]:
    digits = number.lstrip("+")
    national = digits[1:]
    return [re.compile(re.escape(number)), re.compile(digits), re.compile(national),
            re.compile(r"\(?%s\)?[\s.-]*%s[\s.-]*%s" % (national[:3], national[3:6], national[6:]))]


def test_no_phone_number_reaches_a_volunteer(live):
    live.user("sam@example.org")
    live.user("dana@example.org", role="supervisor")
    sam, dana = live.console("sam@example.org"), live.console("dana@example.org")
    live.track(sam), live.track(dana)
    live.text_in(TEXTER, "my number is private right?")
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    claimed = sam.call("claim", {"conversation_id": conv_id})
    sent = sam.call("reply", {"conversation_id": conv_id, "body": "yes, we only see an alias", "client_id": "p"})
    sam.wait_for("message_status", lambda s: s["id"] == sent["message"]["id"] and s["status"] == "delivered",
                 timeout=20)
    opened = dana.call("open", {"conversation_id": conv_id})
    time.sleep(0.5)
    served = [json.dumps(x) for x in (claimed, sent, opened)]
    served += [json.dumps(data) for _, data in sam.seen + dana.seen]
    for session in (sam.http, dana.http):
        for path in ("/console", "/static/js/console.js"):
            page = session.get(live.base_url + path, timeout=10)
            assert page.status_code == 200
            served.append(page.text)
    everything = "\n".join(served)
    assert "Texter " in everything  # the alias is there...
    for pattern in _number_patterns(TEXTER):  # ...the number, in any spelling, is not
        assert not pattern.search(everything), pattern.pattern


def test_automatic_texts_arrive_in_the_order_they_were_written(live):
    """A first text at high risk gets the welcome, then the crisis text: two workers race to send them
    unless they are chained."""
    for n in range(3):
        number = f"+155501077{n:02d}"
        live.text_in(number, "i took all my pills and i want to die tonight")
        wait_until(lambda: len(live.sent_to(number)) == 2, timeout=20, what="welcome and crisis text")
        newest_first = live.sent_to(number)
        kinds = ["welcome" if "Textline" in m.body else "crisis" for m in reversed(newest_first)]
        assert kinds == ["welcome", "crisis"], [m.body[:40] for m in newest_first]
