"""Conversation-level risk: a text read with the texter's recent messages in the same conversation.

The rule is conversation_risk(). A text that states a warning sign of acting (said goodbye, a set
day, has the means, giving things away, asking what dose would kill: lexicon entries whose `sign`
is in ACTING_SIGNS, or whose immediate-danger `kind` is means, plan or farewell; a plain farewell
not when the text is an ordinary sign-off, "ok thanks bye") is high when one of the
texter's messages in the same conversation within WINDOW before it showed distress (it was flagged,
medium or high, on live lexicon evidence) or stated an acting sign itself; and a text showing
distress is high after an earlier acting sign. Neither text alone has to be high. Only live
lexicon hits count (not negated, not past, not a joke), so what pages an adult is always quoted:
the reason names both texts and how far apart they were.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from textline.safety.risk.lexicon import Lexicon
from textline.safety.risk.scorer import DANGER, MODEL

WINDOW = timedelta(hours=2)   # "recent": a crisis conversation's distress and its goodbye are this close
EARLIER_MAX = 10              # at most this many earlier texts are read (newest first)
ACTING_SIGNS = ("said goodbye", "saying goodbye", "set a deadline", "has the means", "giving things away",
                "asked how much would be lethal")
ACTING_KINDS = ("means", "plan", "farewell")
# Most conversations end with a thank-you and a bye; that is not leave-taking.
SIGN_OFF = re.compile(r"\b(?:thanks|thank (?:you|u)|thx|ty)\b(?! for (?:everything|trying|all))|"
                      r"\b(?:talk|ttyl|see (?:you|u|ya)|later|tomorrow|tmrw|good ?night|gtg|got to go|gotta go|have to go)\b",
                      re.IGNORECASE)
FLAGGED = ("medium", "high")


@dataclass(frozen=True)
class EarlierText:
    """One of the texter's earlier messages in the conversation, as stored."""
    body: str | None        # None once retention erased it
    risk: dict | None       # RiskAssessment.to_dict()
    at: datetime


@functools.lru_cache(maxsize=4)
def _entries(lexicon: Lexicon) -> dict:
    return {(e.category, e.label): e for e in lexicon.entries}


def _live(m: dict) -> bool:
    return not m.get("negated") and not m.get("lowered")


def _acting(risk: dict, body: str, entries: dict) -> dict | None:
    """The first live match of an acting warning sign, or None."""
    for m in (risk or {}).get("matches", ()):
        e = entries.get((m["category"], m["label"]))
        if e is None or not _live(m):
            continue
        if e.sign in ACTING_SIGNS:
            return m
        if e.category == DANGER and e.kind in ACTING_KINDS and not (e.kind == "farewell" and SIGN_OFF.search(body)):
            return m
    return None


def _distress(risk: dict) -> dict | None:
    """The strongest live lexicon match of a flagged text (matches come in text order), or None."""
    if not risk or risk.get("level") not in FLAGGED:
        return None
    live = [m for m in risk.get("matches", ()) if _live(m) and m["category"] not in (DANGER, MODEL)]
    return live[0] if live else None


def _quote(body: str, m: dict, limit: int = 50) -> str:
    s = " ".join(body[m["start"]:m["end"]].split())
    return '"' + (s if len(s) <= limit else s[:limit - 1] + "\u2026") + '"'


def _apart(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute apart"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} apart"
    return f"{minutes // 60} h {minutes % 60} min apart"


def conversation_risk(risk: dict, body: str, at: datetime, earlier: list[EarlierText], lexicon: Lexicon) -> dict:
    """The text's assessment (RiskAssessment.to_dict()) read in the context of the texter's earlier
    messages (any order); returns it unchanged or raised to high with one more reason."""
    if risk.get("level") == "high" or not body:
        return risk
    entries = _entries(lexicon)
    acting_now, distress_now = _acting(risk, body, entries), _distress(risk)
    if acting_now is None and distress_now is None:
        return risk
    for prev in sorted(earlier, key=lambda e: e.at, reverse=True):
        if not prev.body or not prev.risk or at - prev.at > WINDOW or prev.at > at:
            continue
        acting_then, distress_then = _acting(prev.risk, prev.body, entries), _distress(prev.risk)
        if acting_now is not None and (distress_then or acting_then) is not None:
            pair = (distress_then or acting_then, acting_now)
        elif distress_now is not None and acting_then is not None:
            pair = (acting_then, distress_now)
        else:
            continue
        reason = (f"with an earlier text: {_quote(prev.body, pair[0])} + {_quote(body, pair[1])}, "
                  f"{_apart(at - prev.at)}")
        score = max(risk.get("score", 0), round(lexicon.thresholds["high"]))
        return {**risk, "score": score, "level": "high", "reasons": list(risk.get("reasons", ())) + [reason]}
    return risk


def needs_context(risk: dict, body: str, lexicon: Lexicon) -> bool:
    """Whether the earlier texts could change this one's level (so the webhook reads them only then)."""
    if risk.get("level") == "high" or not body:
        return False
    return _acting(risk, body, _entries(lexicon)) is not None or _distress(risk) is not None
