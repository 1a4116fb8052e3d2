"""When each timed escalation is due, in one place: a wait or a silence measured from the start of its
episode, and the next page of an unacknowledged escalation.

The sweep (escalation.py) opens what these say is due; the timers (timers.py) schedule a sweep for the
next one; /metrics reports the oldest one left overdue; payloads.alert shows supervisors when an alert
was due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import exists, func, select

from textline.extensions import db
from textline.models import ACTIVE, WAITING, Conversation, Escalation, Role, User
from textline.safety import opening_hours
from textline.texting import language


def seconds(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def episode_at(at: datetime) -> str:
    """A moment as an episode key: the same moment always gives the same key."""
    return str(int(at.timestamp() * 1000))


# The timed escalations: how long after the start of its episode each is due.
DEADLINE_SETTINGS = {"wait": "ESCALATE_WAIT_SECONDS", "no_reply": "ESCALATE_NO_REPLY_SECONDS",
                     "no_speaker": "ESCALATE_NO_SPEAKER_SECONDS"}


def due_at(esc: Escalation) -> datetime | None:
    """When a timed escalation was due (its episode's start plus the setting); None for the others,
    which are opened at once. Supervisors and the benchmark compare it with when the alert came."""
    setting = DEADLINE_SETTINGS.get(esc.reason)
    if setting is None or not esc.episode.isdigit():
        return None
    return datetime.fromtimestamp(int(esc.episode) / 1000, timezone.utc) + seconds(setting)


def next_for(conv: Conversation) -> datetime | None:
    """When this conversation's own timer falls due: its wait if queued, its silence if a texter awaits
    an answer (a sweep timed for it that finds nothing due does no harm)."""
    if conv.status == WAITING and conv.waiting_since is not None:
        reasons = ("wait", "no_speaker") if conv.language not in (None, language.DEFAULT) else ("wait",)
        return conv.waiting_since + min(seconds(DEADLINE_SETTINGS[r]) for r in reasons)
    if conv.status == ACTIVE and conv.awaiting_reply_since is not None:
        return conv.awaiting_reply_since + seconds(DEADLINE_SETTINGS["no_reply"])
    return None


def _none_on_board(reason: str):
    # Conversations that already have one on the board are not due again. The sweep resolves a finished
    # episode before it looks for the next one; the unique key stays the real guard.
    return ~exists().where(Escalation.conversation_id == Conversation.id, Escalation.reason == reason,
                           Escalation.resolved_at.is_(None))


def waits(now: datetime):
    """Unclaimed conversations whose wait is timed: only while the line is open (off-hours nobody is
    expected to claim; see README). None when it is closed."""
    if not opening_hours.is_open(now):
        return None
    return (Conversation.status == WAITING, _none_on_board("wait"))


def speaker_on_shift():
    """A volunteer on shift whose profile lists the conversation's language (correlated to Conversation)."""
    return exists().where(User.role == Role.VOLUNTEER.value, User.active.is_(True), User.on_shift.is_(True),
                          (" " + User.languages + " ").contains(" " + Conversation.language + " "))


def no_speakers(now: datetime):
    """Waiting conversations in a language nobody on shift reads. English is the line's working language
    (a waiting English conversation is the `wait` escalation's), and an unknown language is nobody's
    problem yet. Only while the line is open, as waits. None when it is closed."""
    if not opening_hours.is_open(now):
        return None
    return (Conversation.status == WAITING, Conversation.language.is_not(None),
            Conversation.language != language.DEFAULT, ~speaker_on_shift(), _none_on_board("no_speaker"))


def silences():
    """Conversations a volunteer holds while the texter waits for an answer. Only a volunteer's silence
    escalates: an adult holding the conversation is the escalation."""
    return (Conversation.status == ACTIVE, Conversation.awaiting_reply_since.is_not(None),
            _none_on_board("no_reply"),
            exists().where(User.id == Conversation.volunteer_id, User.role == Role.VOLUNTEER.value))


def pages():
    """Escalations nobody has acknowledged, whose next page has a time."""
    return (Escalation.resolved_at.is_(None), Escalation.acknowledged_at.is_(None),
            Escalation.next_page_at.is_not(None))


def earliest(now: datetime, after: datetime | None = None) -> datetime | None:
    """The earliest deadline of any kind (only those later than `after`, if given): what the next sweep
    must act on. Four MIN queries on indexed columns."""
    found = []
    for column, where, delay in ((Conversation.waiting_since, waits(now), seconds(DEADLINE_SETTINGS["wait"])),
                                 (Conversation.waiting_since, no_speakers(now),
                                  seconds(DEADLINE_SETTINGS["no_speaker"])),
                                 (Conversation.awaiting_reply_since, silences(),
                                  seconds(DEADLINE_SETTINGS["no_reply"])),
                                 (Escalation.next_page_at, pages(), timedelta(0))):
        if where is None:
            continue
        if after is not None:
            where = (*where, column > after - delay)
        start = db.session.scalar(select(func.min(column)).where(*where))
        if start is not None:
            found.append(start + delay)
    return min(found, default=None)
