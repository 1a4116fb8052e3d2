"""A fake of the slice of Twilio that Textline uses, speaking Twilio's wire format.

Served by the app itself when no Twilio credentials are configured (demo, training, tests): the
real `twilio` client is pointed here, inbound webhooks from the simulator are signed like Twilio's,
and delivery status callbacks are posted back signed. Its state lives in Redis so every process
sees the same phone. Tests inject faults (5xx, 4xx, slow responses) through /_control.
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import datetime, timezone
from email.utils import format_datetime

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, request

from textline import broadcast
from textline.extensions import csrf, socketio
from textline.ops.request_args import whole_number
from textline.redis_store import get_redis, key
from textline.texting.privacy import WHATSAPP, parse_address
from textline.texting.twilio_gateway import TWILIO_API, sign
from textline.texting.webhooks import TRAINING_PARAM

bp = Blueprint("fake_twilio", __name__, url_prefix="/fake-twilio")
csrf.exempt(bp)

API = "/2010-04-01/Accounts/<account_sid>"


def _faults_key(call: str) -> str:
    return key("fake", "faults", call)


def _msg_key(sid: str) -> str:
    return key("fake", "msg", sid)


def _thread_key(number: str) -> str:
    return key("fake", "thread", number)


def _outbox_key(number: str) -> str:
    return key("fake", "to", number)


def _handed_over_key(number: str) -> str:
    return key("fake", "handed", number)


def _media_key(media_sid: str) -> str:
    return key("fake", "media", media_sid)


def _media_gets_key(media_sid: str) -> str:
    return key("fake", "media_gets", media_sid)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _error(status: int, code: int, message: str):
    response = jsonify({"code": code, "message": message, "status": status,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}"})
    response.status_code = status
    return response


def _check_auth(account_sid: str):
    auth = request.authorization
    cfg = current_app.config
    if not auth or auth.username != cfg["TWILIO_ACCOUNT_SID"] or auth.password != cfg["TWILIO_AUTH_TOKEN"] \
            or account_sid != cfg["TWILIO_ACCOUNT_SID"]:
        abort(_error(401, 20003, "Authenticate"))


# Kinds of call a fault can be queued for: messages.create, messages.list, a media GET, a media DELETE.
FAULT_CALLS = ("create", "list", "media", "media_delete")


def _next_fault(call: str) -> dict:
    """Pop the next injected fault for this kind of call (FAULT_CALLS): {"delay": s} answers
    slowly; {"status": 500} answers with an error instead of doing the work; with "store": true the
    message is created and the error still returned (Twilio did the work, but the answer was lost);
    {"report": "undelivered", "error_code": "30003"} ends the delivery callbacks with that status."""
    raw = get_redis().lpop(_faults_key(call))
    fault = json.loads(raw) if raw else {}
    if fault.get("delay"):
        time.sleep(float(fault["delay"]))
    return fault


def _fault_response(fault: dict):
    return _error(int(fault["status"]), int(fault.get("code", 20500)), fault.get("message", "Injected fault"))


def _resource(m: dict) -> dict:
    return {**m, "uri": f"/2010-04-01/Accounts/{m['account_sid']}/Messages/{m['sid']}.json",
            "subresource_uris": {}, "api_version": "2010-04-01", "num_media": "0", "price": None,
            "price_unit": "USD"}


def _save(m: dict) -> None:
    get_redis().set(_msg_key(m["sid"]), json.dumps(m))


def _load(sid: str) -> dict | None:
    raw = get_redis().get(_msg_key(sid))
    return json.loads(raw) if raw else None


def _append_thread(number: str, entry: dict) -> None:
    r = get_redis()
    r.rpush(_thread_key(number), json.dumps(entry))
    r.expire(_thread_key(number), 7 * 24 * 3600)
    broadcast.phone_message(number, entry)


@bp.post(API + "/Messages.json")
def create_message(account_sid):
    _check_auth(account_sid)
    fault = _next_fault("create")
    if fault.get("status") and not fault.get("store"):
        return _fault_response(fault)
    to, body = request.form.get("To", ""), request.form.get("Body")
    sender = request.form.get("From") or request.form.get("MessagingServiceSid")
    number = to.removeprefix(f"{WHATSAPP}:")
    if not number.startswith("+") or not number[1:].isdigit():
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if request.form.get("From") and to.startswith(f"{WHATSAPP}:") != request.form["From"].startswith(f"{WHATSAPP}:"):
        return _error(400, 21910, "Invalid From and To pair. From and To should be of the same channel.")
    if not body:
        return _error(400, 21602, "Message body is required.")
    if not sender:
        return _error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
    now = format_datetime(_now(), usegmt=False)
    m = {"sid": "SM" + secrets.token_hex(16), "account_sid": account_sid, "to": to,
         "from": request.form.get("From"), "messaging_service_sid": request.form.get("MessagingServiceSid"),
         "body": body, "status": "queued", "direction": "outbound-api", "date_created": now,
         "date_updated": now, "date_sent": None, "error_code": None, "error_message": None,
         "num_segments": "1"}
    _save(m)
    get_redis().lpush(_outbox_key(to), m["sid"])
    _append_thread(to, {"direction": "in", "body": body, "sid": m["sid"], "at": _now().isoformat()})
    callback = request.form.get("StatusCallback")
    if callback:
        socketio.start_background_task(_report_delivery, current_app._get_current_object(), m["sid"], callback,
                                       fault.get("report", "delivered"), fault.get("error_code"))
    if fault.get("status"):
        return _fault_response(fault)
    return jsonify(_resource(m)), 201


def _report_delivery(app, sid: str, callback: str, final: str = "delivered", error_code: str | None = None) -> None:
    """Play Twilio's part after a create: 'sent', then the final status ('delivered', or what a fault
    named, e.g. 'undelivered' with error 30003), each a signed status callback."""
    with app.app_context():
        for status in ("sent", final):
            time.sleep(0.05)
            m = _load(sid)
            if m is None:  # the fake's state was reset meanwhile
                return
            m["status"] = status
            m["date_updated"] = format_datetime(_now())
            if status == "sent":
                m["date_sent"] = m["date_updated"]
            _save(m)
            params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                      "AccountSid": m["account_sid"], "To": m["to"], "From": m["from"] or "",
                      "ApiVersion": "2010-04-01"}
            if status == final and error_code:
                m["error_code"] = int(error_code)
                _save(m)
                params["ErrorCode"] = error_code
            signature = sign(callback, params, app.config["TWILIO_AUTH_TOKEN"])
            try:
                requests.post(callback, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)
            except requests.RequestException:
                app.logger.warning("fake twilio: status callback failed")


@bp.get(API + "/Messages.json")
def list_messages(account_sid):
    _check_auth(account_sid)
    fault = _next_fault("list")
    if fault.get("status"):
        return _fault_response(fault)
    to = request.args.get("To")
    page_size = whole_number(request.args.get("PageSize", "50"), 1, 1000)
    if page_size is None:
        return _error(400, 20001, "PageSize must be a whole number from 1 to 1000.")
    r = get_redis()
    sids = r.lrange(_outbox_key(to), 0, page_size - 1) if to else []
    messages = [_resource(m) for m in (_load(s) for s in sids) if m]
    uri = request.full_path
    return jsonify({"messages": messages, "first_page_uri": uri, "next_page_uri": None, "previous_page_uri": None,
                    "page": 0, "page_size": page_size, "uri": uri, "start": 0, "end": len(messages)})


@bp.get(API + "/Messages/<sid>.json")
def fetch_message(account_sid, sid):
    _check_auth(account_sid)
    m = _load(sid)
    if not m:
        return _error(404, 20404, f"The requested resource /Messages/{sid}.json was not found")
    return jsonify(_resource(m))


# ---- media: what a texter's MMS carried, served at Twilio's media URL until the line deletes it ----

MEDIA_TTL = 7 * 24 * 3600


def keep_media(account_sid: str, message_sid: str, data: bytes, content_type: str) -> str:
    """Hold one media item as Twilio would; returns its URL in Twilio's form (api.twilio.com), which the
    app's REST client sends here (twilio_gateway.RebasedHttpClient)."""
    media_sid = "ME" + secrets.token_hex(16)
    get_redis().set(_media_key(media_sid), json.dumps({"content_type": content_type, "message_sid": message_sid,
                                                       "data": base64.b64encode(data).decode()}), ex=MEDIA_TTL)
    return f"{TWILIO_API}/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}"


def media_gets(media_sid: str) -> int:
    """How many times the media's bytes were served (tests: fetched exactly once)."""
    return int(get_redis().get(_media_gets_key(media_sid)) or 0)


def media_held(media_sid: str) -> bool:
    return bool(get_redis().exists(_media_key(media_sid)))


def _load_media(message_sid: str, media_sid: str) -> dict | None:
    raw = get_redis().get(_media_key(media_sid))
    item = json.loads(raw) if raw else None
    return item if item and item["message_sid"] == message_sid else None


@bp.get(API + "/Messages/<message_sid>/Media/<media_sid>")
def fetch_media(account_sid, message_sid, media_sid):
    """The bytes, as Twilio serves a media URL to the account (Twilio redirects to its storage first)."""
    _check_auth(account_sid)
    fault = _next_fault("media")
    if fault.get("status"):
        return _fault_response(fault)
    item = _load_media(message_sid, media_sid)
    if item is None:
        return _error(404, 20404, f"The requested resource /Media/{media_sid} was not found")
    get_redis().incr(_media_gets_key(media_sid))
    data = base64.b64decode(item["data"])
    return Response(data, mimetype=item["content_type"], headers={"Content-Length": str(len(data))})


@bp.delete(API + "/Messages/<message_sid>/Media/<media_sid>")
def delete_media(account_sid, message_sid, media_sid):
    """Twilio's Media resource: the twilio library deletes `.../Media/ME….json`."""
    _check_auth(account_sid)
    media_sid = media_sid.removesuffix(".json")
    fault = _next_fault("media_delete")
    if fault.get("status"):
        return _fault_response(fault)
    if _load_media(message_sid, media_sid) is None:
        return _error(404, 20404, f"The requested resource /Media/{media_sid} was not found")
    get_redis().delete(_media_key(media_sid))
    return Response(status=204)


@bp.post("/_control")
def control():
    """Test hook: replace the queued faults, e.g. {"faults": [{"status": 500}, {"delay": 3},
    {"status": 500, "store": true}, {"on": "list", "status": 500}]}. "on" defaults to "create".
    Needs the (fake) account's credentials, like every other call here."""
    _check_auth(current_app.config["TWILIO_ACCOUNT_SID"])
    faults = (request.get_json(silent=True) or {}).get("faults", [])
    r = get_redis()
    r.delete(*(_faults_key(call) for call in FAULT_CALLS))
    for fault in faults:
        r.rpush(_faults_key(fault.get("on", "create")), json.dumps(fault))
    return jsonify({"queued": len(faults)})


def thread_for(number: str) -> list[dict]:
    """What a texter's phone shows: their messages and ours, oldest first. The texter's own texts
    carry "status": "delivered" once the text line accepted them, "failed" if it refused."""
    r = get_redis()
    handed = r.hgetall(_handed_over_key(number))
    entries = [json.loads(x) for x in r.lrange(_thread_key(number), 0, -1)]
    for entry in entries:
        if entry["direction"] == "out":
            entry["status"] = handed.get(entry["sid"], "sending")
    return entries


def _mark_handed_over(number: str, sid: str, status: str) -> None:
    r = get_redis()
    r.hset(_handed_over_key(number), sid, status)
    r.expire(_handed_over_key(number), 7 * 24 * 3600)
    broadcast.phone_status(number, sid, status)


def send_inbound(from_number: str, body: str, message_sid: str | None = None,
                 training: bool = False, media: tuple[tuple[bytes, str], ...] = ()) -> requests.Response:
    """Deliver a text from a texter to our webhook exactly as Twilio would: same fields, same signature.
    `training` adds the simulator's practice flag (webhooks.TRAINING_PARAM), signed like the rest;
    `media` ((bytes, content type), ...) is held here and listed as NumMedia / MediaUrl<n> /
    MediaContentType<n>, as in a Twilio MMS webhook."""
    cfg = current_app.config
    url = cfg["PUBLIC_BASE_URL"] + "/sms/inbound"
    sid = message_sid or "SM" + secrets.token_hex(16)
    params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": cfg["TWILIO_ACCOUNT_SID"],
              "From": from_number, "To": cfg["TWILIO_FROM_NUMBER"], "Body": body, "NumMedia": "0",
              "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    if parse_address(from_number)[0] == WHATSAPP:  # WhatsApp's extra fields: the sender's WhatsApp id and name
        params.update(To=cfg["TWILIO_WHATSAPP_FROM"], WaId=from_number.split("+", 1)[1], ProfileName="Sim")
    if training:
        params[TRAINING_PARAM] = "1"
    params["NumMedia"] = str(len(media))
    for n, (data, content_type) in enumerate(media):
        params[f"MediaUrl{n}"] = keep_media(cfg["TWILIO_ACCOUNT_SID"], sid, data, content_type)
        params[f"MediaContentType{n}"] = content_type
    # On the phone before the webhook runs: the welcome it triggers must not overtake it.
    _append_thread(from_number, {"direction": "out", "body": body, "sid": sid, "at": _now().isoformat(),
                                 "status": "sending", "media": len(media)})
    signature = sign(url, params, cfg["TWILIO_AUTH_TOKEN"])
    try:
        response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    except requests.RequestException:
        _mark_handed_over(from_number, sid, "failed")
        raise
    _mark_handed_over(from_number, sid, "delivered" if response.status_code == 200 else "failed")
    return response
