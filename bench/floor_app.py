"""The floor: the least work any correct text line must do per inbound webhook, and nothing else.

Flask; the Twilio signature checked with the same `twilio` RequestValidator against PUBLIC_BASE_URL; one
row INSERTed into one table of the same database with SQLAlchemy Core, committed before the 200 (same
engine options as Textline's web processes, textline.config.engine_options; same SQLite pragmas: WAL,
synchronous=NORMAL, textline.extensions); the MessageSid unique, so a retried webhook stores nothing twice
(ON CONFLICT DO NOTHING); one Redis PUBLISH of the stored text through Textline's own Redis pool; empty
TwiML. Served by the same gunicorn configurations as Textline and the bare endpoint (bench/bare_app.py),
fed the same signed request bytes.

    gunicorn -k gevent -w 1 'bench.floor_app:from_env()'     # settings from the environment, as Textline's
"""
from __future__ import annotations

import json

from flask import Flask, Response, abort, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, func
from twilio.request_validator import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator
from twilio.request_validator import get_signature_algorithm
from twilio.twiml.messaging_response import MessagingResponse

import textline.extensions  # noqa: F401  registers Textline's SQLite pragmas on every engine (WAL, synchronous)
from textline.config import load_config, normalise_database_url
from textline.models.upsert import insert_for
from textline.redis_store import get_redis

EMPTY_TWIML = str(MessagingResponse())
CHANNEL = "floor:inbound"
INBOUND_PATH = "/sms/inbound"

metadata = MetaData()
inbound_texts = Table(
    "bench_floor_inbound", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_sid", String(64), nullable=False, unique=True),  # exactly once: a retry stores nothing
    Column("from_number", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def create_table(engine) -> None:
    """The floor's one table, beside Textline's in the same database (no migration: the bench's own)."""
    metadata.create_all(engine, checkfirst=True)


def create_app(config: dict) -> Flask:
    """config: Textline's own settings (load_config / app.config), so both use the same database and options."""
    engine = create_engine(normalise_database_url(config["SQLALCHEMY_DATABASE_URI"]),
                           **config["SQLALCHEMY_ENGINE_OPTIONS"])
    create_table(engine)
    # RETURNING says whether this request stored the text (rowcount is -1 through psycopg here).
    insert = (insert_for(engine, inbound_texts).on_conflict_do_nothing(index_elements=["message_sid"])
              .returning(inbound_texts.c.id))
    publisher = get_redis(config["REDIS_URL"])  # Textline's own pool: same timeouts, same fail-fast connections
    validator = RequestValidator(config["TWILIO_AUTH_TOKEN"])
    signed_url = config["PUBLIC_BASE_URL"] + INBOUND_PATH

    app = Flask(__name__)
    app.extensions["floor_engine"] = engine

    @app.post(INBOUND_PATH)
    def inbound():
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        if not validator.validate(signed_url, request.form, request.headers.get(SIGNATURE_HEADER, ""),
                                  algorithm=algorithm):
            abort(403)
        form = request.form
        text = {"sid": form["MessageSid"], "from": form["From"], "body": form.get("Body", "")}
        with engine.begin() as conn:  # committed before the 200
            stored = conn.execute(insert, {"message_sid": text["sid"], "from_number": text["from"],
                                           "body": text["body"]}).scalar()
        if stored is not None:
            publisher.publish(CHANNEL, json.dumps(text))
        return Response(EMPTY_TWIML, mimetype="text/xml")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def from_env() -> Flask:
    """For gunicorn: the same environment a Textline web process reads."""
    return create_app(load_config())
