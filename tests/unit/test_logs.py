"""Structured logs: JSON lines, request ids, and redaction of numbers and message bodies."""
from __future__ import annotations

import io
import json
import logging

import pytest
import requests
from flask import g

from textline.ops import logs

NUMBER = "+15550106543"
BODY = "i told nobody about this before"


@pytest.fixture
def captured(app):
    """A second handler built the way configure() builds the real one, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactFilter())
    handler.setFormatter(logs.JsonFormatter("web"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_request_id_is_taken_from_the_caller_or_made_and_always_returned(live_app):
    given = requests.get(live_app.base_url + "/healthz", headers={"X-Request-ID": "lb-7f3a.12"}, timeout=5)
    assert given.headers["X-Request-ID"] == "lb-7f3a.12"
    made = requests.get(live_app.base_url + "/healthz", timeout=5)
    assert len(made.headers["X-Request-ID"]) == 32
    hostile = requests.get(live_app.base_url + "/healthz", timeout=5,
                           headers={"X-Request-ID": 'x" injected\\n{"level": "error"}'})
    assert hostile.headers["X-Request-ID"] != 'x" injected\\n{"level": "error"}'
    assert len(hostile.headers["X-Request-ID"]) == 32


def test_lines_are_json_with_the_request_id(app, captured):
    with app.test_request_context("/sms/inbound"):
        g.request_id = "req-1"
        logging.getLogger("textline.test").info("stored message %s", 42, extra={"conversation_id": 7})
    (line,) = [x for x in captured() if x["logger"] == "textline.test"]
    assert line["msg"] == "stored message 42" and line["request_id"] == "req-1"
    assert line["conversation_id"] == 7 and line["level"] == "info" and line["role"] == "web"


@pytest.mark.parametrize("spelling", [NUMBER, "+1 555 010 6543", "(555) 010-6543", "555.010.6543",
                                      "5550106543", "15550106543"])
def test_phone_numbers_are_masked_in_any_spelling(app, captured, spelling):
    with app.app_context():
        logging.getLogger("textline.test").warning("texter %s wrote", spelling)
    (line,) = [x for x in captured() if x["logger"] == "textline.test"]
    assert "0106543" not in json.dumps(line) and "010-6543" not in json.dumps(line)
    assert logs.REDACTED in line["msg"]


def test_registered_bodies_are_masked_in_messages_extras_and_tracebacks(app, captured):
    with app.app_context():
        logs.sensitive(BODY, NUMBER, "ok")  # "ok" is too short to mask without mangling every line
        log = logging.getLogger("textline.test")
        log.info("got %r", BODY, extra={"detail": f"body={BODY}"})
        try:
            raise ValueError(f"could not store {BODY!r} from {NUMBER}")
        except ValueError:
            log.exception("failed")
        log.info("ok then")
    lines = [x for x in captured() if x["logger"] == "textline.test"]
    everything = json.dumps(lines)
    assert BODY not in everything and NUMBER not in everything
    assert "ValueError" in lines[1]["exc"] and logs.REDACTED in lines[1]["exc"]
    assert lines[2]["msg"] == "ok then"


def test_sql_errors_do_not_carry_their_parameters(app):
    """SQLAlchemy puts bound parameters (bodies, numbers) in its error text unless told not to."""
    from sqlalchemy import text

    from textline.extensions import db

    with app.app_context():
        with pytest.raises(Exception) as info:
            db.session.execute(text("INSERT INTO no_such_table VALUES (:body)"), {"body": BODY})
        db.session.rollback()
    assert BODY not in str(info.value)
