"""Twilio webhooks: inbound texts and delivery status callbacks."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DataError
from twilio.twiml.messaging_response import MessagingResponse

from textline.extensions import DATABASE_ERRORS, csrf
from textline.models import DeliveryReceipt, Message
from textline.ops import logs, metrics
from textline.riskmodels import shadow
from textline.texting import delivery, spool, spool_drain
from textline.texting.inbound import announce_inbound, receive_inbound
from textline.texting.privacy import parse_address
from textline.texting.storable import is_storable
from textline.texting.twilio_gateway import request_is_from_twilio, sender_for

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


def _database_unavailable(exc):
    """Nothing was stored: answer 5xx quickly so Twilio retries (the MessageSid keeps the retry single)."""
    log.error("database unavailable, asking Twilio to retry: %s", exc.__class__.__name__)
    metrics.inc("webhooks", _endpoint(), "db_down")
    response = twiml(503)
    response.headers["Retry-After"] = "5"
    return response


for _error in DATABASE_ERRORS:  # the one list of "the database is down" (textline/extensions.py)
    bp.register_error_handler(_error, _database_unavailable)


@bp.errorhandler(DataError)
def _not_storable(exc):
    """Last resort: the database refused a value the checks below let through. A 500 would make Twilio
    retry the same refusal until it gives up; a 400 says so once, and the log says what to fix."""
    log.error("webhook refused by the database: %s", exc.__class__.__name__)
    metrics.inc("webhooks", _endpoint(), "unstorable")
    return Response("This request could not be stored.", status=400, mimetype="text/plain")


# Twilio's limit on pictures and files in one message.
MAX_MEDIA = 10
# Not a Twilio field: added by the texter simulator (fake_twilio.send_inbound) to mark practice texts.
TRAINING_PARAM = "TextlineTraining"


def twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status=status, mimetype="text/xml")


def _require_signature() -> None:
    if not request_is_from_twilio():
        current_app.logger.warning("rejected unsigned or forged Twilio request to %s", request.path)
        metrics.inc("webhooks", _endpoint(), "forged")
        abort(403)


def _refuse(outcome: str, reason: str):
    """A signed request we cannot store as it is: a clear 400, counted (Twilio does not retry a 4xx)."""
    metrics.inc("webhooks", _endpoint(), outcome)
    log.warning("refused a signed %s webhook: %s", _endpoint(), reason)
    abort(400, reason)


def _key_field(name: str, column) -> str:
    """A field stored verbatim as a key (never altered, or a retry would not match it): longer than its
    column or with characters the database refuses, it is refused rather than failing the INSERT."""
    value = request.form.get(name, "")
    if len(value) > column.type.length:
        _refuse("too_long", f"{name} is longer than {column.type.length} characters")
    if not is_storable(value):
        _refuse("malformed", f"{name} contains characters that cannot be stored")
    return value


def _media() -> tuple[tuple[str, str | None], ...]:
    """(MediaUrl<n>, MediaContentType<n>) for each item Twilio lists. Read by name, not trusting
    NumMedia, so an item is never dropped; Twilio sends at most MAX_MEDIA."""
    found = ((request.form.get(f"MediaUrl{n}"), request.form.get(f"MediaContentType{n}") or None)
             for n in range(MAX_MEDIA))
    return tuple((url, kind) for url, kind in found if url)


def _training_requested() -> bool:
    """The simulator's practice flag. It is one of the signed parameters, so only the holder of the
    auth token can set it, and it is believed only where training is allowed (never with real Twilio)."""
    return bool(current_app.config["TRAINING_MODE_ENABLED"]) and request.form.get(TRAINING_PARAM) == "1"


@bp.post("/inbound")
def inbound():
    _require_signature()
    sid = _key_field("MessageSid", Message.twilio_sid)
    try:
        channel, address = parse_address(request.form.get("From", ""))
    except ValueError:
        address = None
    if not sid or address is None:
        metrics.inc("webhooks", "inbound", "invalid")
        abort(400, "MessageSid and From (E.164) are required")
    if sender_for(channel) is None:
        # 200, not 4xx: Twilio would log a 4xx as our error on every such message, for ever; nobody could
        # answer this texter anyway. The log says why (README, "WhatsApp").
        metrics.inc("webhooks", "inbound", "channel_off")
        log.warning("turned away an inbound message: no sender is configured for channel %r", channel[:20])
        return twiml()
    # A picture alone comes without a Body: it is an empty text with its media, never refused.
    body = request.form.get("Body") or ""
    media = _media()
    training = _training_requested()
    # Earlier texts still wait for SQL: this one goes after them, so a conversation stays in order.
    if spool.waiting() and _spooled(spool_drain.spool_inbound, None, address, body, sid, training, media):
        spool_drain.kick()
        return twiml()
    try:
        result = receive_inbound(address, body, sid, training=training, media=media)
    except DATABASE_ERRORS as exc:
        return _spooled(spool_drain.spool_inbound, exc, address, body, sid, training, media, True)
    if result.duplicate:
        metrics.inc("webhooks", "inbound", "duplicate")
    else:
        metrics.inc_all(("webhooks", "inbound", "stored"), ("messages", "in"))
        log.info("inbound text stored", extra={"conversation_id": result.conversation.id,
                                               "message_id": result.message.id, "opened": result.opened})
        announce_inbound(result)
        shadow.queue(result.message.id)
    return twiml()


@bp.post("/status")
def status():
    _require_signature()
    sid = _key_field("MessageSid", DeliveryReceipt.twilio_sid)
    state = _key_field("MessageStatus", DeliveryReceipt.status)
    error_code = _key_field("ErrorCode", DeliveryReceipt.error_code)
    if not sid or not state:
        metrics.inc("webhooks", "status", "invalid")
        abort(400, "MessageSid and MessageStatus are required")
    code = error_code or None
    try:
        delivery.record_receipt(sid, state, code)
    except DATABASE_ERRORS as exc:
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
