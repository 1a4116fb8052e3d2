"""The texter simulator: play the texter from a browser (demo and training).

Texts are delivered to /sms/inbound as signed Twilio webhooks; replies arrive from the fake Twilio.
"""
from __future__ import annotations

import requests
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_socketio import Namespace

from textline import broadcast
from textline.config import ROOT
from textline.texting import fake_twilio
from textline.texting.privacy import SMS, WHATSAPP, parse_address

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
NAMESPACE = broadcast.SIMULATOR
# The picture "Attach a picture" sends (a drawn landscape: nothing anyone could be upset by).
SAMPLE_PICTURE = ROOT / "textline" / "data" / "sample_picture.png"


def _number(raw) -> str | None:
    """The simulated phone's address: +E.164 for SMS, whatsapp:+E.164 for WhatsApp."""
    try:
        channel, address = parse_address(str(raw or ""))
    except ValueError:
        return None
    return address if channel in (SMS, WHATSAPP) else None


@bp.get("")
def page():
    return render_template("texting/simulator.html", training_allowed=current_app.config["TRAINING_MODE_ENABLED"])


@bp.post("/send")
def send():
    data = request.get_json(silent=True) or {}
    number, body = _number(data.get("number")), (data.get("body") or "").strip()
    if number is None:
        return jsonify(error="Use a phone number in +15551234567 form."), 400
    picture = data.get("picture", False)
    if not isinstance(picture, bool):
        return jsonify(error="picture must be true or false."), 400
    if not body and not picture:
        return jsonify(error="Type a message first."), 400
    training = data.get("training", False)
    if not isinstance(training, bool):
        return jsonify(error="training must be true or false."), 400
    if training and not current_app.config["TRAINING_MODE_ENABLED"]:
        return jsonify(error="Training conversations are switched off on this server."), 400
    try:
        media = ((SAMPLE_PICTURE.read_bytes(), "image/png"),) if picture else ()
        response = fake_twilio.send_inbound(number, body[:1600], training=training, media=media)
    except requests.RequestException:
        return jsonify(error="The text line did not answer. Try again."), 502
    if response.status_code != 200:
        return jsonify(error=f"The text line answered {response.status_code}."), 502
    return jsonify(ok=True)


@bp.get("/thread")
def thread():
    number = _number(request.args.get("number"))
    if number is None:
        return jsonify(error="Use a phone number in +15551234567 form."), 400
    return jsonify(messages=fake_twilio.thread_for(number))


class SimulatorNamespace(Namespace):
    """The simulated phone's page follows one number's thread."""

    def on_connect(self, auth=None):
        return bool(current_app.config["SIMULATOR_ENABLED"])

    def on_watch(self, data):
        number = _number((data or {}).get("number"))
        if number is None:
            return {"ok": False, "error": "bad number"}
        broadcast.phone_watched(number)
        return {"ok": True, "messages": fake_twilio.thread_for(number)}
