"""The framework's own limit: a bare Flask endpoint that answers a Twilio webhook with empty TwiML and
does no work (no signature check, no SQL, no Redis). Served by the same gunicorn configuration as
Textline, so the ratio of the two is what Textline's own work costs.

    gunicorn -k gevent -w 1 bench.bare_app:app
"""
from flask import Flask, Response

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'

app = Flask(__name__)


@app.post("/sms/inbound")
def inbound():
    return Response(EMPTY_TWIML, mimetype="text/xml")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
