"""The Twilio boundary: webhook signatures in, REST calls out, through the official `twilio` library."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import (
    SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm,
)
from twilio.rest import Client

from textline.texting.privacy import SMS, WHATSAPP, parse_address

TWILIO_API = "https://api.twilio.com"


class RebasedHttpClient(TwilioHttpClient):
    """Sends the twilio client's REST calls to another base URL: the fake Twilio in demo and tests."""

    def __init__(self, base_url: str, timeout: float = 10):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def validation_url() -> str:
    """The URL Twilio signed. Behind a proxy, request.url is not it: PUBLIC_BASE_URL says what Twilio called."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    path = request.full_path
    return base + (path[:-1] if path.endswith("?") else path)


def request_is_from_twilio() -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    return validator.validate(validation_url(), request.form, signature, algorithm=algorithm)


def sign(url: str, params: dict, auth_token: str) -> str:
    """What Twilio would put in X-Twilio-Signature (used by the simulator and the fake Twilio)."""
    return RequestValidator(auth_token).compute_signature(url, params)


@lru_cache(maxsize=4)
def _client(account_sid: str, auth_token: str, api_base: str, timeout: float) -> Client:
    http_client = RebasedHttpClient(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def rest_client() -> Client:
    cfg = current_app.config
    return _client(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], cfg["TWILIO_API_BASE"],
                   cfg["TWILIO_HTTP_TIMEOUT"])


def status_callback_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/sms/status"


def sender_for(channel: str) -> dict | None:
    """Who sends on a channel, as messages.create arguments; None when the channel has no sender here."""
    cfg = current_app.config
    if channel == SMS and cfg["TWILIO_MESSAGING_SERVICE_SID"]:
        return {"messaging_service_sid": cfg["TWILIO_MESSAGING_SERVICE_SID"]}
    sender = {SMS: cfg["TWILIO_FROM_NUMBER"], WHATSAPP: cfg["TWILIO_WHATSAPP_FROM"]}.get(channel)
    return {"from_": sender} if sender else None


def send_sms(to: str, body: str) -> tuple[str, str]:
    """Create one outbound message to an address (E.164, or whatsapp:+E.164, sent from that channel's
    sender); returns (MessageSid, status). Raises TwilioRestException or network errors."""
    sender = sender_for(parse_address(to)[0])
    msg = rest_client().messages.create(to=to, body=body, status_callback=status_callback_url(), **sender)
    return msg.sid, msg.status


def find_sent(to: str, body: str, since: datetime, exclude_sids: set[str]) -> tuple[str, str] | None:
    """After a send whose outcome we never learned (worker killed, timeout), ask Twilio if it went out.

    Twilio has no idempotency key for Messages.create, so this lookup is what keeps a retry from
    texting a young person twice.
    """
    since = since - timedelta(seconds=60)  # clock skew between us and Twilio
    for msg in rest_client().messages.list(to=to, limit=50):
        created = msg.date_created
        if msg.sid in exclude_sids or msg.body != body or msg.direction == "inbound":
            continue
        if created is None or created >= since:
            return msg.sid, msg.status
    return None


def is_permanent(exc: Exception) -> bool:
    """4xx from Twilio means the request itself is wrong (bad number, opted out): retrying cannot help."""
    return isinstance(exc, TwilioRestException) and exc.status is not None and 400 <= exc.status < 500 \
        and exc.status not in (408, 429)
