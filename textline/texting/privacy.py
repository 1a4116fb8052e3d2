"""Texter privacy: a number is known by its HMAC; volunteers only ever see an alias."""
from __future__ import annotations

import hashlib
import hmac
import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SMS, WHATSAPP = "sms", "whatsapp"


def normalise_number(raw: str) -> str:
    """Twilio sends E.164 ('+15551234567'); strip formatting so one person has one hash."""
    number = re.sub(r"[\s().-]", "", raw or "")
    if not _E164.match(number):
        raise ValueError("not an E.164 phone number")
    return number


def parse_address(raw: str) -> tuple[str, str]:
    """Twilio's From: (channel, address). '+15551234567' is SMS, 'whatsapp:+15551234567' WhatsApp (the
    address keeps its prefix: it is what we text back). Another channel's address is returned as it
    is, for the webhook to turn away. Raises ValueError when a number is not E.164."""
    prefix, sep, rest = (raw or "").partition(":")
    if not sep:
        return SMS, normalise_number(raw)
    channel = prefix.strip().lower()
    if channel == WHATSAPP:
        return WHATSAPP, f"{WHATSAPP}:{normalise_number(rest)}"
    return channel, raw


def phone_hash(address: str, key: str) -> str:
    """A texter's key: the HMAC of their address, so one person on SMS and on WhatsApp is two texters
    (each conversation is answered on the channel it came from)."""
    channel, address = parse_address(address)
    return hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()


def alias_for(hashed: str) -> str:
    """A stable, human-friendly name derived from the hash, never from the number itself."""
    return f"Texter {hashed[:4].upper()}"
