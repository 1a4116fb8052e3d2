"""Issue 7: structured logs on the production processes. A full conversation (signed webhook, claim,
reply, delivery callbacks, worker sends) must leave JSON lines with request ids and no message body
or phone number anywhere in any process's log."""
from __future__ import annotations

import json

import requests

from tests.integration.test_core_flow import _number_patterns
from tests.support.texting import inbound_params, twilio_signature
from textline.texting.wording import default

DEFAULT_WELCOME = default("welcome")

TEXTER = "+15550107321"
FIRST = "my stepdad hits me when he drinks and i cant sleep"
REPLY = "That sounds really frightening. Are you somewhere safe right now?"
SECOND = "im at my friends house tonight, her mom knows"


def test_a_whole_conversation_leaves_json_logs_with_request_ids_and_nothing_private(live):
    procs = [*live.webs, *live.workers]
    start = {p.name: len(p.log()) for p in procs}
    live.user("sam@example.org")
    sam = live.console("sam@example.org")
    live.track(sam)

    params = inbound_params(live.account_sid, TEXTER, FIRST)
    signature = twilio_signature(live.auth_token, live.base_url + "/sms/inbound", params)
    r = requests.post(live.base_url + "/sms/inbound", data=params, timeout=10,
                      headers={"X-Twilio-Signature": signature, "X-Request-ID": "edge-4a1f"})
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "edge-4a1f"
    conv_id = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]["id"]
    assert sam.call("claim", {"conversation_id": conv_id})["ok"]
    sent = sam.call("reply", {"conversation_id": conv_id, "body": REPLY, "client_id": "logs-1"})
    sam.wait_for("message_status", lambda s: s["id"] == sent["message"]["id"] and s["status"] == "delivered",
                 timeout=30)
    live.text_in(TEXTER, SECOND)
    sam.wait_for("message", lambda m: m["body"] == SECOND)
    sam.call("end", {"conversation_id": conv_id, "note": "safe tonight"})

    logs = {p.name: p.log()[start[p.name]:] for p in procs}
    everything = "\n".join(logs.values())
    for private in (FIRST, REPLY, SECOND, DEFAULT_WELCOME[:40]):
        assert private not in everything
    for pattern in _number_patterns(TEXTER):
        assert not pattern.search(everything), pattern.pattern

    lines = [line for text in logs.values() for line in text.splitlines() if line.strip()]
    ours = [json.loads(line) for line in lines if not line.startswith("[")]  # "[" = gunicorn's own boot lines
    assert len(ours) == len([x for x in lines if not x.startswith("[")]) and ours  # every other line is JSON
    assert all({"ts", "level", "logger", "msg", "role"} <= set(x) for x in ours)
    # One request id follows the first text from the webhook into the worker that sent the welcome.
    tagged = [x for x in ours if x.get("request_id") == "edge-4a1f"]
    assert {x["role"] for x in tagged} == {"web", "worker"}
    assert any(x["msg"] == "inbound text stored" for x in tagged)
    assert any(x["msg"] == "text accepted by Twilio" and x["role"] == "worker" for x in tagged)
