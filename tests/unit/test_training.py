"""Training mode: the simulator can mark a conversation as practice, and only where training is allowed.
Also the simulator's own behaviour (delivered marks, clear errors)."""
from __future__ import annotations

import requests
from sqlalchemy import select

from tests.support.servers import free_port
from tests.support.texting import inbound_params, post_signed, twilio_signature
from tests.support.web import Browser, csrf_token
from textline.extensions import db
from textline.models import Conversation
from textline.texting.webhooks import TRAINING_PARAM

TEXTER = "+15550108901"


def training_flags():
    db.session.expire_all()
    return db.session.scalars(select(Conversation.training).order_by(Conversation.id)).all()


def signed_inbound(live_app, body="practice", training=True, number=TEXTER):
    params = inbound_params(live_app.account_sid, number, body)
    if training:
        params[TRAINING_PARAM] = "1"
    return post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token)


def test_signed_training_flag_marks_the_conversation(live_app, app_ctx):
    assert signed_inbound(live_app).status_code == 200
    assert signed_inbound(live_app, "a real one", training=False, number="+15550108902").status_code == 200
    assert training_flags() == [True, False]


def test_training_flag_is_ignored_where_training_is_not_allowed(live_app, app_ctx, monkeypatch):
    monkeypatch.setitem(live_app.app.config, "TRAINING_MODE_ENABLED", False)
    assert signed_inbound(live_app).status_code == 200
    assert training_flags() == [False]


def test_training_flag_added_outside_the_signature_is_refused(live_app, app_ctx):
    params = inbound_params(live_app.account_sid, TEXTER, "hi")
    url = live_app.base_url + "/sms/inbound"
    signature = twilio_signature(live_app.auth_token, url, params)
    response = requests.post(url, data={**params, TRAINING_PARAM: "1"}, headers={"X-Twilio-Signature": signature},
                             timeout=10)
    assert response.status_code == 403
    assert training_flags() == []


def _simulator(live_app) -> tuple[Browser, str]:
    browser = Browser(live_app.base_url)
    return browser, csrf_token(browser, "/simulator")


def test_simulator_sends_training_texts_and_marks_them_delivered(live_app, app_ctx):
    browser, token = _simulator(live_app)
    page = browser.get("/simulator").text
    assert 'id="sim-training"' in page
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": "practice: hi", "training": True},
                        headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text
    assert training_flags() == [True]
    thread = browser.get("/simulator/thread", params={"number": TEXTER}).json()["messages"]
    mine = [m for m in thread if m["direction"] == "out"]
    assert [(m["body"], m["status"]) for m in mine] == [("practice: hi", "delivered")]
    assert any(m["direction"] == "in" and "988" in m["body"] for m in thread)  # the welcome arrived


def test_simulator_refuses_a_bad_or_forbidden_training_flag(live_app, app_ctx, monkeypatch):
    browser, token = _simulator(live_app)
    bad = browser.post("/simulator/send", json={"number": TEXTER, "body": "hi", "training": "yes"},
                       headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "true or false" in bad.json()["error"]
    monkeypatch.setitem(live_app.app.config, "TRAINING_MODE_ENABLED", False)
    assert 'id="sim-training"' not in browser.get("/simulator").text
    off = browser.post("/simulator/send", json={"number": TEXTER, "body": "hi", "training": True},
                       headers={"X-CSRFToken": token})
    assert off.status_code == 400 and "switched off" in off.json()["error"]
    assert training_flags() == []  # nothing was sent


def test_simulator_marks_an_undelivered_text(live_app, app_ctx, monkeypatch):
    """If the text line does not answer (here: nothing listens where the webhook goes), the phone
    shows the text as not delivered and the simulator says what happened."""
    browser, token = _simulator(live_app)
    monkeypatch.setitem(live_app.app.config, "PUBLIC_BASE_URL", f"http://127.0.0.1:{free_port()}")
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": "hi"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 502 and "did not answer" in sent.json()["error"]
    monkeypatch.undo()
    thread = browser.get("/simulator/thread", params={"number": TEXTER}).json()["messages"]
    assert [(m["body"], m["status"]) for m in thread] == [("hi", "failed")]
    assert training_flags() == []
