"""Notices to the adults on shift, raised from any process (a web request or a Celery worker).

A notice is something an adult should know now but that needs no acknowledgement or paging: a text
that could not be delivered, a page that failed, a conversation handed back to the queue. Escalations
(textline/safety/escalation.py) are the other kind: persistent, acknowledged, paged; they use the "alert"
event. Broadcasts go through the Socket.IO Redis message queue, so a notice raised in a worker
reaches every supervisor console on every web process. Each notice is counted (textline_notices_total).
"""
from __future__ import annotations

import logging

from textline import broadcast
from textline.models import Conversation
from textline.ops import metrics

log = logging.getLogger(__name__)
LEVELS = ("info", "warning", "urgent")


def notify_supervisors(kind: str, text: str, conv: Conversation | None = None, level: str = "warning",
                       **details) -> dict:
    """Tell every supervisor now. `text` is shown as is: write it without bodies or numbers."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    data = broadcast.notice_raised(kind, level, text, conv, **details)
    metrics.inc("notices", kind)
    log.info("notice raised", extra={"notice_kind": kind, "notice_level": level,
                                     "conversation_id": data["conversation_id"]})
    return data


def delivery_failed(conv: Conversation, message_id: int, error_code: str | None) -> dict:
    """A text to a texter will not arrive: an adult must know (and may need to reach them another way)."""
    code = f" (error {error_code})" if error_code else ""
    return notify_supervisors("delivery_failed", f"A text to {conv.texter.alias} could not be delivered{code}.",
                              conv, message_id=message_id, error_code=error_code)


def page_failed(conv: Conversation, advisor_name: str, error_code: str | None) -> dict:
    """An SMS page to an advisor's phone failed: the next one on the rota is still paged on time."""
    code = f" (error {error_code})" if error_code else ""
    return notify_supervisors("page_failed", f"The page to {advisor_name} about {conv.texter.alias} failed{code}.",
                              conv, level="urgent", error_code=error_code)


REQUEUE_WHY = {"disconnected": "their volunteer disconnected",
               "adult_hand_back": "an adult sent them back to the front of the queue"}


def requeued(conv: Conversation, reason: str) -> dict:
    """A volunteer vanished, or an adult sent the conversation back: their texter is waiting again."""
    return notify_supervisors("requeued", f"{conv.texter.alias} is back in the queue: "
                              f"{REQUEUE_WHY.get(reason, reason)}.", conv, reason=reason)


def review_needed(conv: Conversation) -> dict:
    """Risk rose to "review" (medium): a negated or past mention, or words the risk model reads like
    texts that needed an adult. Not an escalation (nobody is paged): an adult may want to look."""
    return notify_supervisors("review", f"{conv.texter.alias} may need an adult to look: "
                              f"{'; '.join(conv.risk_reasons[-2:]) or 'risk to review'}.", conv, level="info")


def transferred(conv: Conversation, by_name: str, from_name: str | None, to_name: str) -> dict:
    """A conversation changed volunteers: the adults should know who has it now."""
    origin = f" from {from_name}" if from_name and from_name != by_name else ""
    return notify_supervisors("transfer", f"{by_name} passed {conv.texter.alias}{origin} to {to_name}.", conv,
                              level="info")


def blocked_while_held(conv: Conversation) -> dict:
    """An adult blocked the texter of a conversation a volunteer holds: it stays theirs until it ends."""
    metrics.inc("notices", "blocked")
    return broadcast.notice_to_user(
        conv.volunteer_id, "blocked", "info",
        f"An adult blocked {conv.texter.alias}. This conversation stays with you until you end it; their next "
        f"texts will not reach the queue.", conv)


def flood(conv: Conversation) -> dict:
    """A texter is writing faster than FLOOD_RATE (textline/blocklist/floods.py): the volunteer holding the
    conversation hears it once; while nobody holds it, the adults do."""
    text = (f"{conv.texter.alias} is sending many texts quickly. Every text is kept in the conversation; "
            f"take your time, and ask an adult if it feels like abuse.")
    if conv.status == "active" and conv.volunteer_id is not None:
        metrics.inc("notices", "flood")
        return broadcast.notice_to_user(conv.volunteer_id, "flood", "info", text, conv)
    return notify_supervisors("flood", f"{conv.texter.alias} is sending many texts quickly (all are kept).", conv,
                              level="info")
