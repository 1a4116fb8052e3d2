"""Everything a browser is sent about texters, conversations and messages is built here.

One place to keep the rule that a phone number (or anything derived from it but the alias)
never leaves the server.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from textline.console import wrap_up
from textline.media import kinds
from textline.models import (INBOUND, Conversation, ConversationNote, DebriefTask, Escalation, Message, MessageMedia,
                             User)
from textline.safety import danger
from textline.safety.deadlines import due_at
from textline.texting import language


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def message(msg: Message) -> dict:
    risk = msg.risk or {}
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "direction": msg.direction,
        "author": msg.author_kind,
        "kind": msg.kind,
        "body": msg.body,
        "replaced_chars": msg.replaced_chars,  # characters that could not be stored (shown as U+FFFD)
        "status": msg.status,
        "error_code": msg.error_code,
        "created_at": _iso(msg.created_at),
        "risk": {k: risk[k] for k in ("score", "level", "reasons", "matches") if k in risk} or None,
        # Only texters send media: an outbound message's (empty) list is not even loaded.
        "media": [media(item) for item in msg.media] if msg.direction == INBOUND else [],
    }


def media(item: MessageMedia) -> dict:
    """A picture or file from a texter, as consoles list it: never Twilio's URL (the browser asks our own
    /media routes, which check who is asking). `held` = volunteers wait until an adult has looked
    (MEDIA_ADULT_FIRST); `preview` = a blurred preview exists."""
    return {"id": item.id, "kind": kinds.kind_of(item.content_type), "content_type": kinds.base_type(item.content_type),
            "size": item.size, "state": item.state, "preview": item.preview_key is not None,
            "adult_viewed": item.adult_viewed_at is not None,
            "held": bool(current_app.config["MEDIA_ADULT_FIRST"]) and item.adult_viewed_at is None}


def message_status(msg: Message) -> dict:
    return {"id": msg.id, "conversation_id": msg.conversation_id, "status": msg.status,
            "error_code": msg.error_code}


def conversation(conv: Conversation) -> dict:
    return {
        "id": conv.id,
        "alias": conv.texter.alias,
        "status": conv.status,
        "priority": conv.priority,
        "risk_level": conv.risk_level,
        "risk_reasons": conv.risk_reasons or [],
        "volunteer_id": conv.volunteer_id,
        "volunteer_name": conv.volunteer.display_name if conv.volunteer else None,
        "opened_at": _iso(conv.opened_at),
        "queued_at": _iso(conv.queued_at),
        "claimed_at": _iso(conv.claimed_at),
        "last_inbound_at": _iso(conv.last_inbound_at),
        "closed_at": _iso(conv.closed_at),
        "training": conv.training,
        "channel": conv.channel,
        "language": conv.language,  # "en", "es", or None until detected (textline/texting/language.py)
        "language_name": language.NAMES.get(conv.language),
        "opted_out": conv.texter.opted_out,
        "awaiting_reply_since": _iso(conv.awaiting_reply_since),
        "adult_joined_at": _iso(conv.adult_joined_at),
        "adult_name": conv.adult.display_name if conv.adult else None,
        "crisis_info_sent": conv.crisis_info_sent_at is not None,
        "wrap_up_pending": wrap_up.owed(conv),
    }


# What a console works out for itself from each inbound `message` event (supervise.js: the texter wrote
# at created_at; in an active conversation the no-reply clock starts if it was not running), so an
# inbound text that changes nothing else about its conversation needs no `conversation` event.
DERIVED_FROM_INBOUND = ("last_inbound_at", "awaiting_reply_since")


def conversation_shown(conv: Conversation) -> dict:
    """The conversation as consoles see it, less what they derive from inbound messages."""
    return {k: v for k, v in conversation(conv).items() if k not in DERIVED_FROM_INBOUND}


def transcript(conv: Conversation) -> dict:
    return {"conversation": conversation(conv), "messages": [message(m) for m in conv.messages],
            "notes": [note(n) for n in conv.notes]}


def queue_row(conv: Conversation, inbound_count: int, order: int | None = None) -> dict:
    """A waiting conversation as the queue lists it; `order` is its place (the Redis score: lower first),
    which consoles sort by when they are sent one row."""
    row = {**conversation(conv), "inbound_count": inbound_count}
    if order is not None:
        row["order"] = order
    return row


# ---- the console --------------------------------------------------------------------------------

def me(user: User) -> dict:
    """The signed-in person, as their own console knows them."""
    return {"id": user.id, "name": user.display_name, "role": user.role, "on_shift": user.on_shift,
            "capacity": user.capacity, "languages": language.codes(user.languages)}


def hello(user: User, mine: list[dict], queue: dict, heartbeat_seconds: int) -> dict:
    """What a console gets when it connects: who it is, its conversations, how often to beat, the queue
    (rows, and the SEQ they are as of: textline/texting/queue_sync.py)."""
    return {"me": me(user), "mine": mine, "heartbeat_seconds": heartbeat_seconds, "queue": queue["rows"],
            "queue_seq": queue["seq"]}


def taken_over(conv: Conversation, by: User) -> dict:
    return {"conversation_id": conv.id, "by": by.display_name}


def transferred_away(conv: Conversation, by: User) -> dict:
    """To the volunteer who no longer has it: who has it now, and who passed it on."""
    return {"conversation_id": conv.id, "alias": conv.texter.alias, "to": conv.volunteer.display_name,
            "by": by.display_name}


def transferred_in(conv: Conversation, by: User) -> dict:
    """To the volunteer who has it now: the whole transcript, and who passed it on."""
    return {**transcript(conv), "by": by.display_name}


# ---- safety -------------------------------------------------------------------------------------

REASON_TEXT = {
    "risk": "High risk",
    "wait": "Waiting too long for a volunteer",
    "no_reply": "No reply from the volunteer",
    "asked": "Volunteer asked for an adult",
    "no_speaker": "No volunteer on shift speaks the texter's language",
}


def reason_text(esc: Escalation) -> str:
    """What an alert (and its page) says happened."""
    if esc.reason == "no_speaker":  # names the language: "No Spanish-speaking volunteer on shift"
        code = esc.conversation.language
        return f"No {language.NAMES.get(code, code)}-speaking volunteer on shift"
    return REASON_TEXT.get(esc.reason, esc.reason)


def note(n: ConversationNote) -> dict:
    """A private note: a supervisor's "whisper" to the volunteer, or a colleague's handover note on a
    transfer (kind "transfer", with who it was passed to). Never shown to the texter."""
    return {"id": n.id, "conversation_id": n.conversation_id, "author": n.author.display_name,
            "author_id": n.author_id, "body": n.body, "created_at": _iso(n.created_at), "kind": n.kind,
            "author_is_adult": n.author.is_supervisor,
            "recipient": n.recipient.display_name if n.recipient else None}


def alert(esc: Escalation) -> dict:
    """An escalation as the supervisors' consoles show it. Pages name the advisor, never the number."""
    conv = esc.conversation
    return {
        "id": esc.id,
        "conversation_id": esc.conversation_id,
        "alias": conv.texter.alias,
        "reason": esc.reason,
        "reason_text": reason_text(esc),
        "severity": danger.severity(esc),  # the dashboard's order: lowest first, then oldest
        "state": esc.state,
        "risk_level": conv.risk_level,
        "risk_reasons": conv.risk_reasons or [],
        "language": conv.language,
        "language_name": language.NAMES.get(conv.language),
        "conversation_status": conv.status,
        "volunteer_name": conv.volunteer.display_name if conv.volunteer else None,
        "opened_at": _iso(esc.opened_at),
        "due_at": _iso(due_at(esc)),
        "opened_by": esc.opened_by.display_name if esc.opened_by else None,
        "acknowledged_at": _iso(esc.acknowledged_at),
        "acknowledged_by": esc.acknowledged_by.display_name if esc.acknowledged_by else None,
        "resolved_at": _iso(esc.resolved_at),
        "next_page_at": _iso(esc.next_page_at),
        "pages": [{"seq": p.seq, "advisor": p.user.display_name, "status": p.status,
                   "at": _iso(p.created_at)} for p in esc.pages],
    }


def escalation_notice(esc: Escalation) -> dict:
    """What the volunteer in the conversation is told about an adult being pulled in."""
    return {"id": esc.id, "conversation_id": esc.conversation_id, "reason": esc.reason,
            "reason_text": reason_text(esc), "state": esc.state,
            "acknowledged_by": esc.acknowledged_by.display_name if esc.acknowledged_by else None}


def spool(count: int, oldest_seconds: float) -> dict:
    """The spool's depth for the adults' banner: counts only, never what the texts say."""
    return {"count": count, "oldest_seconds": round(oldest_seconds)}


def notice(notice_id: str, kind: str, level: str, text: str, raised_at: datetime,
           conv: Conversation | None = None, **details) -> dict:
    """A notice for supervisors (textline/safety/notices.py). `details` are ids and codes only, never bodies
    or numbers."""
    return {
        "id": notice_id,
        "kind": kind,
        "level": level,
        "text": text,
        "raised_at": _iso(raised_at),
        "conversation_id": conv.id if conv else None,
        "alias": conv.texter.alias if conv else None,
        **{k: v for k, v in details.items() if isinstance(v, (int, float, str, bool, type(None)))},
    }


# ---- console tools ------------------------------------------------------------------------------

def saved_reply(reply) -> dict:
    """A saved reply for the console picker: text an admin wrote, nothing about any texter."""
    return {"id": reply.id, "title": reply.title, "body": reply.body, "category": reply.category}


def transfer_target(user, load: int) -> dict:
    """A volunteer one can pass a conversation to: the name colleagues know them by, free room, and the
    languages they answer in (shown, never a limit: anyone can be chosen)."""
    spoken = language.codes(user.languages)
    return {"id": user.id, "name": user.display_name, "free": max(0, user.capacity - load),
            "capacity": user.capacity, "languages": spoken, "language_names": [language.NAMES[c] for c in spoken]}


def phone_status(sid: str, status: str) -> dict:
    """The texter simulator: whether the text line took a text sent from the simulated phone."""
    return {"sid": sid, "status": status}


# ---- volunteer wellbeing (textline/wellbeing/) ----------------------------------------------------

def wellbeing(pause: dict | None, shift_started_at: datetime | None, shift_max_minutes: int, reminder_minutes: int,
              past_shift_limit: bool, high_risk_to_others: bool, tally: dict) -> dict:
    """A volunteer's own state, for their console only: their pause, their shift's clock and limits."""
    return {"pause": pause, "shift_started_at": _iso(shift_started_at), "shift_max_minutes": shift_max_minutes,
            "reminder_minutes": reminder_minutes, "past_shift_limit": past_shift_limit,
            "high_risk_to_others": high_risk_to_others, "high_risk_count": tally["high"]}


def volunteer_load(user: User, holding: int, tally: dict, pause: dict | None, present: bool,
                   past_shift_limit: bool, high_risk_to_others: bool) -> dict:
    """One row of the adults' volunteers panel: counts and times, never what any texter wrote."""
    return {"id": user.id, "name": user.display_name, "holding": holding, "capacity": user.capacity,
            "conversations": tally["conversations"], "hard": tally["hard"], "high": tally["high"],
            "shift_started_at": _iso(user.shift_started_at), "last_pause_at": tally["last_pause_at"],
            "pause": pause, "present": present, "past_shift_limit": past_shift_limit,
            "high_risk_to_others": high_risk_to_others}


DEBRIEF_REASONS = {"low_feeling": "Felt low at check-out", "asked_to_talk": "Asked to talk with an adult",
                   "both": "Felt low and asked to talk"}


def debrief(task: DebriefTask) -> dict:
    checkout = task.checkout
    return {"id": task.id, "volunteer_id": task.volunteer_id, "volunteer": task.volunteer.display_name,
            "reason": task.reason, "reason_text": DEBRIEF_REASONS.get(task.reason, task.reason),
            "feeling": checkout.feeling if checkout else None, "created_at": _iso(task.created_at),
            "owner": task.owner.display_name if task.owner else None, "owner_id": task.owner_id,
            "done_at": _iso(task.done_at)}
