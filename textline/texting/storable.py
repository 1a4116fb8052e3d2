"""Text as every database we run on can store it. PostgreSQL refuses a NUL in a text column, and a
lone surrogate cannot be encoded to UTF-8 at all; either would fail the INSERT. Both are replaced
with U+FFFD (the Unicode replacement character) on SQLite too, so a volunteer sees the same words
whichever database holds them."""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> tuple[str, int]:
    """The text with unstorable characters replaced, and how many were."""
    return _UNSTORABLE.subn(REPLACEMENT, text)


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None
