"""Recognise the carrier keywords (STOP, START, HELP...) the way Twilio does.

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


def _normalise(body: str) -> str:
    """Trim, drop trailing punctuation/whitespace, and case-fold."""
    text = body.strip()
    while text and (text[-1].isspace() or unicodedata.category(text[-1]).startswith("P")):
        text = text[:-1]
    return text.casefold()


def classify(body: str | None, *, opted_out: bool = False) -> Keyword | None:
    """Return the keyword the whole message is, or None for ordinary text.

    Only a message that is exactly one keyword counts: "STOP", " stop ", "Stop!!"
    do; "please don't stop", "i want to end it", "help me" do not.
    `opted_out` says whether this number is currently opted out (see YES above).
    """
    word = _normalise(body or "")
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS or (opted_out and word in OPT_IN_WHEN_OPTED_OUT):
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None
