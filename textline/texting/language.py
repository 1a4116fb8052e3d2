"""Which language a texter writes in, from the first texts of their conversation (never from the number).

py3langid (its model ships inside the wheel; chosen in bench/README.md, "Language identification on short
texts") judges the texter's first texts joined together, after each of the first DETECT_TEXTS texts:

- Spanish as soon as the joined texts come out Spanish with probability >= SPANISH_AT;
- English as soon as they come out English with probability >= ENGLISH_AT and at least
  ENGLISH_MIN_LETTERS letters (a bare "hi" or "hello" decides nothing);
- otherwise still unknown (None), until the DETECT_TEXTS-th text with letters in it, when English, the line's working
  language, is the fallback (other languages too: the line answers in English and Spanish only).

Candidates are the languages a US line can expect, not just en/es: forced to choose between the two,
a third of Portuguese, French, Tagalog... texts come out Spanish. Texts with nothing to go on ("ok",
"?", emoji) score uniformly, below both thresholds, so they never decide.

Once decided, a conversation keeps its language (inbound.py calls decide() only while it is None): a
texter who switches language mid-conversation is answered by a person, who reads it; the automatic
texts and who is offered the conversation do not flip on a short text. The next conversation is
detected afresh.
"""
from __future__ import annotations

import functools
import unicodedata

from py3langid.langid import MODEL_FILE, LanguageIdentifier

DEFAULT = "en"          # the line's working language: every volunteer reads it
SUPPORTED = ("en", "es")
NAMES = {"en": "English", "es": "Spanish"}
# What py3langid may answer. Spanish's close relatives (Catalan, Galician, Italian) are left out: on
# short texts they only steal Spanish.
CANDIDATES = ("en", "es", "pt", "fr", "ht", "tl", "vi", "zh", "ar", "ko", "ru")
DETECT_TEXTS = 3
SPANISH_AT = 0.5
ENGLISH_AT = 0.9
ENGLISH_MIN_LETTERS = 12


@functools.cache
def _identifier() -> LanguageIdentifier:
    # ~0.7 s and ~90 MiB (it decompresses the model): once per process, at start (warm()), never per text.
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CANDIDATES))
    return ident


def warm() -> None:
    """Load the model now (app start), so no webhook pays for it."""
    _identifier()


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def identify(text: str) -> tuple[str, float]:
    """py3langid's top candidate language and its probability (uniform 1/len(CANDIDATES) when the text
    has nothing to go on)."""
    lang, probability = _identifier().classify(text)
    return lang, float(probability)


def decide(first_texts: list[str]) -> str | None:
    """The conversation's language from the texter's texts so far, oldest first: "es", "en", or None
    while it is not known yet."""
    texts = [t for t in first_texts if _letters(t)][:DETECT_TEXTS]  # emoji, "?", a picture: nothing to go on
    joined = "\n".join(texts)
    lang, probability = identify(joined)
    if lang == "es" and probability >= SPANISH_AT:
        return "es"
    if lang == "en" and probability >= ENGLISH_AT and _letters(joined) >= ENGLISH_MIN_LETTERS:
        return "en"
    return DEFAULT if len(texts) >= DETECT_TEXTS else None


def codes(languages: str | None) -> list[str]:
    """A profile's languages ("en es") as codes, supported ones only, in the line's order."""
    given = set((languages or "").split())
    return [c for c in SUPPORTED if c in given]
