"""The words of every text the line sends on its own (besides the configurable welcome), built from the
resource directory (data/resources.yaml) and the opening hours, so a hotline number lives in one place.

Kinds (Message.kind): help, off_hours, crisis, blocked, opt_out_confirmation, opt_in_confirmation. Pages to
advisors are here too: they must never carry a texter's number or words, only the alias.
"""
from __future__ import annotations

from flask import current_app

from textline.safety.opening_hours import next_opening_text
from textline.safety.resources import default_directory

# Resources sent when risk is high, and with HELP and off-hours replies.
CRISIS_IDS = ("988", "911")
OFF_HOURS_IDS = ("988", "crisis-text-line", "911")


def crisis() -> str:
    return "We want you to be safe right now.\n" + default_directory().crisis_sms(CRISIS_IDS)


def help_text() -> str:
    return ("Textline: free, confidential support by text from trained teen volunteers, with adults "
            "supervising. Reply STOP to stop texts.\n" + default_directory().crisis_sms(CRISIS_IDS))


def off_hours() -> str:
    return (f"Thanks for texting Textline. Our teen volunteers are not on right now; text us again "
            f"{next_opening_text()}. If you need someone now:\n"
            + default_directory().crisis_sms(OFF_HOURS_IDS))


def blocked() -> str:
    """The one automatic reply a day a blocked texter gets (textline/blocklist/): crisis resources still."""
    return ("Textline can't continue a conversation with this number right now. If you need help now:\n"
            + default_directory().crisis_sms(OFF_HOURS_IDS))


def opt_out_confirmation() -> str:
    return ("You are unsubscribed from Textline and will get no more texts from us. Reply START to text "
            "with us again. In danger? Call 911.")


def opt_in_confirmation() -> str:
    return "You can text with Textline again. Reply HELP for help, STOP to stop texts."


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
