"""Recognise the carrier keywords (STOP, START, HELP...) the way Twilio does, and their Spanish
counterparts (PARAR, COMENZAR, AYUDA...).

Carriers act on these words themselves: after STOP, Twilio blocks our replies to that
number until the texter opts back in. We mirror the same rules so our records agree
with what the carrier will actually deliver.

Classifying a message never means dropping it. Twilio still forwards keyword
messages to us, and a teen who texts "HELP" or "END" may mean it literally, so the
conversation must still reach a volunteer.
"""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass


class Keyword(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Twilio's default lists; REVOKE and OPTOUT were added in May 2025 for the FCC
# consent-revocation rule.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
# Twilio also re-subscribes on YES. For someone mid-conversation "yes" is an answer
# ("are you safe?" - "yes"), so it only counts when the number is already opted out.
OPT_IN_WHEN_OPTED_OUT = frozenset({"yes"})
HELP_WORDS = frozenset({"help", "info"})

# Spanish, compared without accents ("ayúda", "AYUDA" alike). Twilio acts on English words only unless the
# Messaging Service's Advanced Opt-Out lists these too (README, "Spanish"): the line honours them itself, so a
# Spanish-speaking teen's PARAR stops every text from us, the FCC's "any reasonable means" of revoking consent
# (47 CFR 64.1200(a)(10)). Chosen narrow, like the English ones, for a helpline: single words that mean
# "stop the texts" and little else when they are the whole message. Left out on purpose: PARA (a half-typed
# "para..." would end a conversation), BASTA and NO MAS ("enough!" is what a teen in distress may say about
# their life, as "i want to end it" is in English); those reach a volunteer as they are.
OPT_OUT_WORDS_ES = frozenset({"parar", "alto", "detener", "cancelar", "baja"})
OPT_IN_WORDS_ES = frozenset({"comenzar", "iniciar"})
OPT_IN_WHEN_OPTED_OUT_ES = frozenset({"si"})  # "sí", as YES above
HELP_WORDS_ES = frozenset({"ayuda"})

# (keyword, language) of every word; INFO is English (the same word in Spanish: the conversation decides).
_WORDS: dict[str, tuple[Keyword, str]] = {
    **{w: (Keyword.OPT_OUT, "en") for w in OPT_OUT_WORDS}, **{w: (Keyword.OPT_IN, "en") for w in OPT_IN_WORDS},
    **{w: (Keyword.HELP, "en") for w in HELP_WORDS},
    **{w: (Keyword.OPT_OUT, "es") for w in OPT_OUT_WORDS_ES}, **{w: (Keyword.OPT_IN, "es") for w in OPT_IN_WORDS_ES},
    **{w: (Keyword.HELP, "es") for w in HELP_WORDS_ES},
}
_WHEN_OPTED_OUT = {**{w: (Keyword.OPT_IN, "en") for w in OPT_IN_WHEN_OPTED_OUT},
                   **{w: (Keyword.OPT_IN, "es") for w in OPT_IN_WHEN_OPTED_OUT_ES}}


@dataclass(frozen=True)
class Match:
    keyword: Keyword
    language: str  # the keyword's own language: decides the reply's while the conversation's is unknown


def _normalise(body: str) -> str:
    """Trim, drop trailing punctuation/whitespace, and case-fold."""
    text = body.strip()
    while text and (text[-1].isspace() or unicodedata.category(text[-1]).startswith("P")):
        text = text[:-1]
    return text.casefold()


def _unaccented(word: str) -> str:
    """"sí" -> "si", "AYÚDA" -> "ayuda": accents are often left out, or added by a phone's autocorrect."""
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


def match(body: str | None, *, opted_out: bool = False) -> Match | None:
    """The keyword the whole message is, with its language, or None for ordinary text.

    Only a message that is exactly one keyword counts: "STOP", " stop ", "Stop!!", "¡Alto!"
    do; "please don't stop", "i want to end it", "help me", "ayuda por favor" do not.
    `opted_out` says whether this number is currently opted out (see YES above).
    """
    word = _unaccented(_normalise(body or "")).removeprefix("¡").removeprefix("¿")
    found = _WORDS.get(word) or (_WHEN_OPTED_OUT.get(word) if opted_out else None)
    return Match(*found) if found else None


def classify(body: str | None, *, opted_out: bool = False) -> Keyword | None:
    """The keyword the whole message is (match() without the language)."""
    found = match(body, opted_out=opted_out)
    return found.keyword if found else None
