"""The words of the automatic texts, per language (textline/data/auto_texts.yaml), and the one rule that picks
the language a texter is written to.

The rule (language_for): the conversation's language when the line knows it (conversations.language, filled by
language detection); before that, the language of the keyword the texter sent, if this text is one ("AYUDA" as
a first text gets the Spanish HELP reply); otherwise English. A language the catalogue has no texts in is
written to in English.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml
from flask import current_app, has_app_context

PATH = Path(__file__).resolve().parents[1] / "data" / "auto_texts.yaml"
ENGLISH = "en"
# The three texts a deployment may reword; setting name for English, + "_<LANG>" for another language.
OVERRIDES = {"welcome": "WELCOME_TEXT", "survey": "SURVEY_TEXT", "survey_thanks": "SURVEY_THANKS_TEXT"}


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """key -> language -> words, loaded once. Every key must have English (the fallback)."""
    texts = yaml.safe_load(PATH.read_text(encoding="utf-8"))["texts"]
    missing = [key for key, words in texts.items() if not words.get(ENGLISH)]
    if missing:
        raise ValueError(f"{PATH}: no English text for {missing}")
    return texts


def languages() -> tuple[str, ...]:
    """Every language some automatic text is written in."""
    return tuple(sorted({lang for words in catalogue().values() for lang in words}))


def language_for(conversation_language: str | None, keyword_language: str | None = None) -> str:
    """The language to write to this texter in (module docstring)."""
    known = languages()
    if conversation_language in known:
        return conversation_language
    if keyword_language in known:
        return keyword_language
    return ENGLISH


def setting_name(key: str, language: str) -> str | None:
    base = OVERRIDES.get(key)
    if base is None:
        return None
    return base if language == ENGLISH else f"{base}_{language.upper()}"


def default(key: str, language: str = ENGLISH) -> str:
    """The catalogue's words for `key` in `language` (English if it has none), before any setting."""
    words = catalogue()[key]
    return words.get(language) or words[ENGLISH]


def text_for(key: str, language: str | None = ENGLISH, **fill: str) -> str:
    """The words of automatic text `key` for a texter in `language`, placeholders filled. A deployment's
    setting (OVERRIDES) wins over the catalogue; a language the text is not written in gets English."""
    if language not in catalogue()[key]:
        language = ENGLISH
    name = setting_name(key, language)
    configured = current_app.config.get(name) if name and has_app_context() else None
    words = configured or catalogue()[key][language]
    return words.format(**fill) if fill else words
