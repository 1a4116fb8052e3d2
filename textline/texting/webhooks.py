"""Twilio webhooks: inbound texts and delivery status callbacks."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from twilio.twiml.messaging_response import MessagingResponse

from textline.extensions import csrf
from textline.ops import logs, metrics
from textline.texting import delivery, spool, spool_drain
from textline.texting.inbound import announce_inbound, receive_inbound
from textline.texting.privacy import normalise_number
from textline.texting.twilio_gateway import request_is_from_twilio

bp = Blueprint("webhooks", __name__, url_prefix="/sms")
csrf.exempt(bp)  # Twilio cannot send a CSRF token; the request signature stands in for it

# Twilio only needs a 200 with TwiML; replies go out through the REST API from a worker.
EMPTY_TWIML = str(MessagingResponse())
log = logging.getLogger(__name__)


def _endpoint() -> str:
    return request.path.rsplit("/", 1)[-1]


@bp.before_request
def _protect_logs():
    """Whatever goes wrong below, this request's log lines must not carry the text or the numbers."""
    logs.sensitive(request.form.get("Body"), request.form.get("From"), request.form.get("To"))


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(PoolTimeout)
def _database_unavailable(exc):
    """Nothing was stored: answer 5xx quickly so Twilio retries (the MessageSid keeps the retry single)."""
    log.error("database unavailable, asking Twilio to retry: %s", exc.__class__.__name__)
    metrics.inc("webhooks", _endpoint(), "db_down")
    response = twiml(503)
    response.headers["Retry-After"] = "5"
    return response
# Not a Twilio field: added by the texter simulator (fake_twilio.send_inbound) to mark practice texts.
TRAINING_PARAM = "TextlineTraining"


def twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status=status, mimetype="text/xml")


def _require_signature() -> None:
    if not request_is_from_twilio():
        current_app.logger.warning("rejected unsigned or forged Twilio request to %s", request.path)
        metrics.inc("webhooks", _endpoint(), "forged")
        abort(403)


def _training_requested() -> bool:
    """The simulator's practice flag. It is one of the signed parameters, so only the holder of the
    auth token can set it, and it is believed only where training is allowed (never with real Twilio)."""
    return bool(current_app.config["TRAINING_MODE_ENABLED"]) and request.form.get(TRAINING_PARAM) == "1"


@bp.post("/inbound")
def inbound():
    _require_signature()
    sid = request.form.get("MessageSid", "")
    body = request.form.get("Body")
    try:
        number = normalise_number(request.form.get("From", ""))
    except ValueError:
        number = None
    if not sid or body is None or number is None:
        metrics.inc("webhooks", "inbound", "invalid")
        abort(400, "MessageSid, From (E.164) and Body are required")
    training = _training_requested()
    # Earlier texts still wait for SQL: this one goes after them, so a conversation stays in order.
    if spool.waiting() and _spooled(spool_drain.spool_inbound, None, number, body, sid, training):
        spool_drain.kick()
        return twiml()
    try:
        result = receive_inbound(number, body, sid, training=training)
    except spool_drain.DATABASE_ERRORS as exc:
        return _spooled(spool_drain.spool_inbound, exc, number, body, sid, training)
    if result.duplicate:
        metrics.inc("webhooks", "inbound", "duplicate")
    else:
        metrics.inc_all(("webhooks", "inbound", "stored"), ("messages", "in"))
        log.info("inbound text stored", extra={"conversation_id": result.conversation.id,
                                               "message_id": result.message.id, "opened": result.opened})
        announce_inbound(result)
    return twiml()


@bp.post("/status")
def status():
    _require_signature()
    sid = request.form.get("MessageSid", "")
    state = request.form.get("MessageStatus", "")
    if not sid or not state:
        metrics.inc("webhooks", "status", "invalid")
        abort(400, "MessageSid and MessageStatus are required")
    code = request.form.get("ErrorCode") or None
    try:
        delivery.record_receipt(sid, state, code)
    except spool_drain.DATABASE_ERRORS as exc:
        _spooled(spool_drain.spool_status, exc, sid, state, code)
        return Response(status=204)
    metrics.inc("webhooks", "status", "recorded")
    return Response(status=204)


def _spooled(keep, exc: Exception | None, *fields) -> Response | None:
    """SQL cannot take it (`exc`): into the durable spool, then 200 (Twilio's retries end within 15 s;
    an outage often does not). If the disk refuses too, the 503 handler above asks Twilio to retry;
    without `exc`, None: try SQL instead."""
    if exc is not None:
        spool_drain.rollback()
    try:
        keep(*fields)
    except OSError:
        log.exception("spool write failed")
        if exc is not None:
            raise exc from None
        return None
    return twiml()
