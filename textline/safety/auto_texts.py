"""Every text the line sends on its own, built from the words in data/auto_texts.yaml (per language:
textline/texting/wording.py), the resource directory (data/resources.yaml) and the opening hours, so a
hotline number lives in one place.

Kinds (Message.kind): welcome, help, off_hours, crisis, blocked, opt_out_confirmation, opt_in_confirmation
(and the survey's, textline/texting/survey.py). `language` is the texter's (wording.language_for); a language
without texts gets English. Pages to advisors are here too, in English: they must never carry a texter's number
or words, only the alias.
"""
from __future__ import annotations

from flask import current_app

from textline.safety.opening_hours import next_opening_text
from textline.safety.resources import default_directory
from textline.texting.wording import ENGLISH, text_for

# Resources sent when risk is high, and with HELP and off-hours replies.
CRISIS_IDS = ("988", "911")
OFF_HOURS_IDS = ("988", "crisis-text-line", "911")


def _resources(ids, language: str) -> str:
    return default_directory().crisis_sms(ids, language)


def welcome(language: str = ENGLISH) -> str:
    return text_for("welcome", language)


def crisis(language: str = ENGLISH) -> str:
    return text_for("crisis", language, resources=_resources(CRISIS_IDS, language))


def help_text(language: str = ENGLISH) -> str:
    return text_for("help", language, resources=_resources(CRISIS_IDS, language))


def off_hours(language: str = ENGLISH) -> str:
    return text_for("off_hours", language, next_opening=next_opening_text(language=language),
                    resources=_resources(OFF_HOURS_IDS, language))


def blocked(language: str = ENGLISH) -> str:
    """The one automatic reply a day a blocked texter gets (textline/blocklist/): crisis resources still."""
    return text_for("blocked", language, resources=_resources(OFF_HOURS_IDS, language))


def opt_out_confirmation(language: str = ENGLISH) -> str:
    return text_for("opt_out_confirmation", language)


def opt_in_confirmation(language: str = ENGLISH) -> str:
    return text_for("opt_in_confirmation", language)


def page(alias: str, reason_text: str, conversation_id: int) -> str:
    """The SMS page to an advisor; its link opens that conversation on the dashboard (after sign-in)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return (f"Textline alert: {alias} needs an adult ({reason_text}). Please open "
            f"{base}/supervise?conversation={conversation_id}")


def spool_page(alias: str) -> str:
    """The page sent while SQL is down (textline/safety/spool_pages.py): no conversation to link to yet."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return (f"Textline alert: {alias} needs an adult (High risk). The database is down: the text waits in "
            f"the spool and reaches {base}/supervise when it is back.")
