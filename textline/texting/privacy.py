"""Texter privacy: a number is known by its HMAC; volunteers only ever see an alias."""
from __future__ import annotations

import hashlib
import hmac
import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_number(raw: str) -> str:
    """Twilio sends E.164 ('+15551234567'); strip formatting so one person has one hash."""
    number = re.sub(r"[\s().-]", "", raw or "")
    if not _E164.match(number):
        raise ValueError("not an E.164 phone number")
    return number


def phone_hash(number: str, key: str) -> str:
    return hmac.new(key.encode(), normalise_number(number).encode(), hashlib.sha256).hexdigest()


def alias_for(hashed: str) -> str:
    """A stable, human-friendly name derived from the hash, never from the number itself."""
    return f"Texter {hashed[:4].upper()}"
