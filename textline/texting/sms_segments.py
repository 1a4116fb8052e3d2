"""Count how many SMS segments a message will cost, the way carriers split it.

The same logic lives in textline/static/js/segments.js for the live counter in the
volunteer console; tests/unit/test_sms_segments.py checks that the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet in code order 0x00-0x7F (3GPP TS 23.038), without the
# 0x1B escape. Keep in sync with GSM_BASIC in segments.js (a test compares them).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + char, so it costs 2 septets.
GSM_EXTENDED = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM_BASIC)
_EXTENDED = frozenset(GSM_EXTENDED)

# (single-message capacity, per-part capacity once a user-data header is needed)
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # capacity of each segment at this length
    remaining: int  # units still free in the last segment


def _costs(text: str) -> tuple[str, list[int]]:
    """The encoding for the whole text and the unit cost of each character."""
    if all(ch in _BASIC or ch in _EXTENDED for ch in text):
        return "GSM-7", [2 if ch in _EXTENDED else 1 for ch in text]
    # Anything outside GSM-7 switches the whole message; astral chars are surrogate pairs.
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count(text: str) -> SegmentInfo:
    encoding, costs = _costs(text)
    single, part = _LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        segments = 1 if units else 0
        return SegmentInfo(encoding, units, segments, single, single - units)

    # Phones never split an escape pair or a surrogate pair across parts, so a
    # 2-unit character that does not fit pushes to the next part.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, units, segments, part, part - used)
