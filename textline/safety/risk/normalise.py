"""Normalising a text for matching: lowercase, accents folded, apostrophes dropped, letters repeated 3+
times squeezed, punctuation and emoji turned into spaces or clause breaks. Every step keeps the length
except the drops, which are recorded, so match offsets map back to the original text."""
from __future__ import annotations

import bisect
import re
import unicodedata


_APOSTROPHES = "'`\u2019\u2018\u02bc\u00b4\u2032"
# Zero-width characters and combining accents are dropped like apostrophes ("su\u200bicide").
_DROPPED = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_BREAKS = ".!?;,:\n\r\u2026\u3002\uff01\uff1f"   # clause breaks: negation never reaches across them
_SQUEEZE_RX = re.compile(r"([a-z])\1\1+")           # letter runs of 3+ ("dieeee")
# Emoji that say goodbye or name a means are kept (one character each) so the lexicon can match
# "🖤👋"; every other emoji becomes a space like punctuation.
SIGN_EMOJI = "👋✌🖤🪦🕊🥀💔⚰🔪🔫💊"


def _fold_char(c: str) -> str:
    """Exactly one character out for one in, so offsets survive this step."""
    if c in _APOSTROPHES or c in _DROPPED or unicodedata.combining(c):
        return "'"
    if c in _BREAKS:
        return "."
    if c in SIGN_EMOJI:
        return c
    if c.isascii():
        return c.lower() if c.isalnum() else " "
    base = unicodedata.normalize("NFKD", c)[:1]
    if base.isascii() and base.isalnum():  # accents, full-width and styled letters
        return base.lower()
    if c.isalnum():
        low = c.lower()
        return low if len(low) == 1 else c
    return " "  # emoji, symbols, other punctuation


class _FoldTable(dict):
    """str.translate table, filled lazily for the characters we actually see."""

    def __missing__(self, code: int) -> str:
        self[code] = out = _fold_char(chr(code))
        return out


_FOLD = _FoldTable()


class NormalText:
    """A message and its normalised form. Only two steps drop characters (apostrophes, then
    squeezed letter runs); their drops are worked out lazily, when a hit needs real offsets."""

    __slots__ = ("text", "norm", "_folded", "_unquoted", "_drops")

    def __init__(self, text: str, folded: str, unquoted: str, norm: str):
        self.text, self._folded, self._unquoted, self.norm = text, folded, unquoted, norm
        self._drops = None

    def _drop_records(self) -> tuple[list, list, list]:
        # Where drops sit, as indexes into the shorter string (sorted): an apostrophe sits just
        # before quote_at[k]; a squeezed run lost run_lost[k] chars just before run_at[k].
        if self._drops is None:
            quote_at, q = [], self._folded.find("'")
            while q >= 0:
                quote_at.append(q - len(quote_at))
                q = self._folded.find("'", q + 1)
            run_at, run_lost, lost = [], [], 0
            if len(self.norm) != len(self._unquoted):
                for m in _SQUEEZE_RX.finditer(self._unquoted):
                    run_at.append(m.start() - lost + 1)
                    lost += len(m.group()) - 1
                    run_lost.append(lost)  # running total
            self._drops = (quote_at, run_at, run_lost)
        return self._drops

    def orig(self, i: int, end: bool = False) -> int:
        """Original offset for a norm offset. An end takes in a squeezed run ("dieeee") but
        not an apostrophe that follows the hit."""
        if self.norm is self._folded:  # nothing was dropped (the common case)
            return i
        quote_at, run_at, run_lost = self._drop_records()
        k = bisect.bisect_right(run_at, i)
        i += run_lost[k - 1] if k else 0
        return i + (bisect.bisect_left(quote_at, i) if end else bisect.bisect_right(quote_at, i))


_DOUBLES_RX = re.compile(r"([a-z])\1+")
WORD_RX = re.compile(r"\S+")


def lookup_key(s: str) -> str:
    """Lookup key shared by a phrase and any text it matched: single spaces, doubles squeezed."""
    return _DOUBLES_RX.sub(r"\1", " ".join(s.split()))


def normalise_text(text: str, leet: dict, leet_rx: re.Pattern | None) -> NormalText:
    t = text
    if leet_rx is not None and leet_rx.search(t):
        t = leet_rx.sub(lambda m: leet[m.group()], t)
    folded = t.translate(_FOLD)
    unquoted = folded.replace("'", "") if "'" in folded else folded
    norm = _SQUEEZE_RX.sub(r"\1", unquoted)
    if norm == folded:
        norm = folded  # same object: lets orig() skip the offset bookkeeping
    return NormalText(text, folded, unquoted, norm)
