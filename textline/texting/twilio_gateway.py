"""The Twilio boundary: webhook signatures in, REST calls out, through the official `twilio` library."""
from __future__ import annotations

import re
from dataclasses import dataclass
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


# ---- media (MediaUrl<n> of an inbound MMS) -------------------------------------------------------

class MediaGone(Exception):
    """Twilio no longer has this media (deleted, or never there): fetching again cannot help."""


@dataclass
class MediaDownload:
    content_type: str | None
    size: int | None         # Twilio's Content-Length, or the bytes read
    data: bytes | None       # None: larger than the limit, not read


def _checked_media_url(url: str) -> str:
    """A media URL from a webhook, checked to be this account's media on Twilio's API: it came signed,
    but the server must never call an arbitrary address with the account's credentials."""
    account = re.escape(current_app.config["TWILIO_ACCOUNT_SID"])
    if not re.fullmatch(rf"{re.escape(TWILIO_API)}/2010-04-01/Accounts/{account}/Messages/\w{{34}}/Media/\w{{34}}", url,
                        flags=re.ASCII):
        raise MediaGone("not a media URL of this account")
    return url


def _media_api_url(url: str) -> str:
    """Where to GET it: where the REST client sends everything (the fake Twilio in demo and tests)."""
    url = _checked_media_url(url)
    http = rest_client().http_client
    return http.base_url + url[len(TWILIO_API):] if isinstance(http, RebasedHttpClient) else url


def fetch_media(url: str, max_bytes: int) -> MediaDownload:
    """GET one media item with the account's credentials, through the twilio client's HTTP session
    (Twilio answers with a redirect to its storage; requests drops the credentials on the way there).
    A file over `max_bytes` is not read. Raises MediaGone on 404, requests/HTTP errors otherwise."""
    cfg = current_app.config
    session = rest_client().http_client.session
    with session.get(_media_api_url(url), auth=(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]),
                     timeout=cfg["TWILIO_HTTP_TIMEOUT"], stream=True, allow_redirects=True) as response:
        if response.status_code == 404:
            raise MediaGone("404")
        response.raise_for_status()
        kind = response.headers.get("Content-Type")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return MediaDownload(kind, int(declared), None)
        data = bytearray()
        for chunk in response.iter_content(64 * 1024):
            data.extend(chunk)
            if len(data) > max_bytes:
                return MediaDownload(kind, int(declared) if declared and declared.isdigit() else None, None)
        return MediaDownload(kind, len(data), bytes(data))


def delete_media(url: str) -> None:
    """DELETE the media at Twilio (the library's Media resource) once the line has its own copy, or will
    never fetch it. Already gone counts as done."""
    try:
        parts = _checked_media_url(url).split("/")
    except MediaGone:
        return
    message_sid, media_sid = parts[-3], parts[-1]  # .../Messages/<MM…>/Media/<ME…>
    client = rest_client()
    try:
        client.api.v2010.accounts(current_app.config["TWILIO_ACCOUNT_SID"]).messages(message_sid) \
            .media(media_sid).delete()
    except TwilioRestException as exc:
        if exc.status != 404:
            raise


def is_permanent(exc: Exception) -> bool:
    """4xx from Twilio means the request itself is wrong (bad number, opted out): retrying cannot help."""
    return isinstance(exc, TwilioRestException) and exc.status is not None and 400 <= exc.status < 500 \
        and exc.status not in (408, 429)
