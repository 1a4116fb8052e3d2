"""A pause on the production shape (gunicorn+gevent web, a real Celery worker, Redis, SQL): after Sam ends
a high-risk conversation, the next texter cannot go to Sam while the pause runs; Alex takes them. When Sam
presses "I'm ready to go on", the texter after that is Sam's again. The adults' panel shows the pause and
its reason, and never reaches a volunteer's socket."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.support.texting import wrap_up
from textline.models import Conversation

HIGH = "i have the pills in my hand and i want to kill myself tonight"


def test_a_pause_changes_who_is_offered_texters(live):
    now = datetime.now(timezone.utc)
    sam_id = live.user("sam@example.org", display_name="Sam", shift_started_at=now)
    alex_id = live.user("alex@example.org", display_name="Alex", shift_started_at=now)
    live.user("dana@example.org", role="supervisor", display_name="Dana")
    sam, alex, dana = (live.console(f"{n}@example.org") for n in ("sam", "alex", "dana"))
    for client in (sam, alex, dana):
        live.track(client)
        client.wait_for("hello")

    live.text_in("+15550109201", HIGH)
    hard = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": hard})["ok"]
    assert sam.call("end", {"conversation_id": hard, "disposition": wrap_up(risk="high", follow_up="adult"),
                            "note": ""})["ok"]
    assert sam.wait_for("wellbeing", lambda w: w["pause"] is not None)["pause"]["reason"] == "high_risk"
    board = dana.wait_for("volunteer_board", lambda b: any(v["name"] == "Sam" and v["pause"] for v in b["volunteers"]))
    assert [v["pause"]["reason_text"] for v in board["volunteers"] if v["name"] == "Sam"] == \
        ["After a high-risk conversation"]

    live.text_in("+15550109202", "hey is anyone there")
    nxt = sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] != hard)[0]["id"]
    assert sam.call("claim", {"conversation_id": nxt})["code"] == "paused"
    assert alex.call("claim", {"conversation_id": nxt})["ok"]  # the texter goes to someone else

    assert sam.call("ready_to_go_on", {})["wellbeing"]["pause"] is None
    live.text_in("+15550109203", "hi")
    third = sam.wait_for("queue_view", lambda q: len(q) == 1 and q[0]["id"] not in (hard, nxt))[0]["id"]
    assert sam.call("claim", {"conversation_id": third})["ok"]

    with live.db() as s:
        assert s.get(Conversation, nxt).volunteer_id == alex_id
        assert s.get(Conversation, third).volunteer_id == sam_id
    assert live.redis().hget(f"tl:shift_tally:{sam_id}", "hard") == "1"
    for client in (sam, alex):
        assert not any(name == "volunteer_board" for name, _ in client.seen)
