"""Texting in the app: Twilio's webhooks, and for demos and tests the fake Twilio and the texter
simulator (its page and Socket.IO namespace)."""
from __future__ import annotations

from flask import Flask

from textline.extensions import socketio
from textline.texting import fake_twilio, language, simulator, webhooks


def init_app(app: Flask) -> None:
    language.warm()  # the language model loads once per process, here, not in the first webhook
    app.register_blueprint(webhooks.bp)
    if app.config["FAKE_TWILIO_ENABLED"]:
        app.register_blueprint(fake_twilio.bp)
    if app.config["SIMULATOR_ENABLED"]:
        app.register_blueprint(simulator.bp)
    socketio.on_namespace(simulator.SimulatorNamespace(simulator.NAMESPACE))  # refuses when switched off
