"""Escalation: pulling an adult advisor in, and making sure one comes.

An escalation is opened when (a) risk crosses the high threshold (in the inbound path, at once), (b) a
conversation waits unclaimed longer than ESCALATE_WAIT_SECONDS, (c) a volunteer leaves the texter
unanswered longer than ESCALATE_NO_REPLY_SECONDS, (d) a volunteer presses "Ask an adult", or (e) a
conversation in a language no volunteer on shift reads (Spanish) waits longer than
ESCALATE_NO_SPEAKER_SECONDS (the alert says "No Spanish-speaking volunteer on shift"). Each one is
an Escalation row, an `alert` on every supervisor console, and, if no supervisor acknowledges within
PAGE_AFTER_SECONDS, an SMS page to the first advisor on the rota, then the next every
PAGE_REPEAT_SECONDS, for at most PAGE_MAX_ROUNDS passes through the rota.

Timers are deadlines in SQL (deadlines.py), read by a sweep (workers/escalation.py) that beat runs every
ESCALATION_SWEEP_SECONDS, that is also timed for each deadline, and that workers run in beat's place when
beat goes quiet (timers.py): no countdown lives in one process, so a dead worker or beat loses nothing. Nothing happens twice: an event is a unique
(conversation, reason, episode) inserted with ON CONFLICT DO NOTHING, and each page is won by a
conditional UPDATE of pages_sent plus a unique (escalation, seq) page row, so overlapping sweeps, two
workers or two web processes can never page twice for one event.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import and_, event, select, update
from sqlalchemy.orm import Session, joinedload

from textline import broadcast, payloads, tasks
from textline.accounts import audit
from textline.extensions import db
from textline.models import ACTIVE, CLOSED, WAITING, Conversation, Escalation, Page, Role, User, utcnow
from textline.models.upsert import insert_for
from textline.ops import metrics
from textline.safety import auto_texts, deadlines, opening_hours, pager_cache, spool_pages, timers
from textline.safety.deadlines import DEADLINE_SETTINGS, episode_at, seconds
from textline.texting import language

# Reasons whose cause can go away by itself (claimed, answered): they resolve without an adult.
SELF_RESOLVING = ("wait", "no_reply", "no_speaker")
SWEEP_BATCH = 500  # per kind of deadline and pass: bounds one sweep's work


# ---- the rota -----------------------------------------------------------------------------------

def rota_query(*columns):
    """The advisors to page, in paging order: adults on shift first, then every other active adult with a
    pager phone (the on-call list for when nobody is at a console), each group in a stable order."""
    return (select(*(columns or (User,)))
            .where(User.active.is_(True), User.role.in_([Role.SUPERVISOR.value, Role.ADMIN.value]),
                   User.pager_phone.is_not(None), User.pager_phone != "")
            .order_by(User.on_shift.desc(), User.id))


def rota() -> list[User]:
    """The advisors to page, as User rows (rota_query)."""
    return list(db.session.scalars(rota_query()))


def mirror_rota() -> bool:
    """Mirror the rota into Redis (pager_cache), for paging while SQL is down; the newest read wins."""
    return pager_cache.refresh(db.engine, rota_query(User.id, User.display_name, User.pager_phone))


# ---- opening ------------------------------------------------------------------------------------

def _insert_once(values: dict) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id on the event key: the new row's id if this call
    recorded the event, None if it was already there. (RETURNING, not rowcount: some drivers report
    -1 for INSERT rowcounts.)"""
    stmt = insert_for(db.session, Escalation).values(**values).on_conflict_do_nothing(
        index_elements=["conversation_id", "reason", "episode"]).returning(Escalation.id)
    return db.session.execute(stmt).scalar()


def open_escalation(conv: Conversation, reason: str, episode: str, by: User | None = None,
                    now: datetime | None = None, page_at_once: bool = False) -> Escalation | None:
    """Record one escalation event in the caller's transaction. Returns None if this event was already
    recorded. The caller commits, then calls announce()."""
    now = now or utcnow()
    first_page = now if page_at_once else now + seconds("PAGE_AFTER_SECONDS")
    new_id = _insert_once({"conversation_id": conv.id, "reason": reason, "episode": episode, "opened_at": now,
                           "opened_by_id": by.id if by else None, "next_page_at": first_page, "pages_sent": 0})
    if new_id is None:
        return None
    db.session.info.setdefault(_TO_COUNT, []).append(reason)
    return db.session.get(Escalation, new_id)


# Escalations are counted (Redis) once their transaction has committed, never inside it: a rolled-back
# event must not count, and under gevent a Redis call inside the transaction lets another greenlet run
# while SQLite's write lock is held; that greenlet's write then blocks the whole process in SQLite's
# busy wait until the timeout (seen as webhooks and sends failing with "database is locked").
_TO_COUNT = "escalations_to_count"


@event.listens_for(Session, "after_commit")
def _count_committed(session):
    if session.in_transaction():  # a SAVEPOINT was released; the outer transaction may still roll back
        return
    for reason in session.info.pop(_TO_COUNT, ()):
        metrics.inc("escalations", reason)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(_TO_COUNT, None)


def for_high_risk(conv: Conversation, now: datetime | None = None, paged=None) -> Escalation | None:
    """Risk crossed the high threshold (called in the inbound transaction). Once per conversation. When
    the line is closed nobody is at a console to acknowledge, so the on-call advisor is paged at once.
    `paged`: the page already sent about this text while it waited in the spool (spool_pages.SpoolPage),
    recorded as this escalation's first page instead of paging again."""
    if paged is None:
        return open_escalation(conv, "risk", "1", now=now, page_at_once=not opening_hours.is_open(now))
    esc = open_escalation(conv, "risk", "1", now=now)
    if esc is not None:
        spool_pages.record(esc, paged)
    return esc


def ask_adult(conv: Conversation, user: User) -> tuple[Escalation, bool]:
    """The volunteer pressed "Ask an adult". Pressing again while an ask is still open returns that one
    (a double click or two tabs raise one alert). Returns (escalation, created)."""
    pending = db.session.scalar(select(Escalation).where(
        Escalation.conversation_id == conv.id, Escalation.reason == "asked", Escalation.resolved_at.is_(None),
        Escalation.acknowledged_at.is_(None)))
    if pending is not None:
        return pending, False
    asked_before = db.session.scalar(select(db.func.count()).select_from(Escalation).where(
        Escalation.conversation_id == conv.id, Escalation.reason == "asked"))
    esc = open_escalation(conv, "asked", str(asked_before + 1), by=user)
    if esc is None:  # the same press raced in from another tab: that one is ours too
        db.session.rollback()
        return ask_adult(conv, user)
    audit.record("escalation.ask", user, "escalation", esc.id, commit=False, conversation_id=conv.id)
    return esc, True


# ---- acknowledging and resolving ----------------------------------------------------------------

def acknowledge(esc: Escalation, user: User, now: datetime | None = None) -> bool:
    """An adult has it: paging stops. True if this call acknowledged it (False: someone already had)."""
    won = db.session.execute(
        update(Escalation).where(Escalation.id == esc.id, Escalation.acknowledged_at.is_(None))
        .values(acknowledged_at=now or utcnow(), acknowledged_by_id=user.id, next_page_at=None)
    ).rowcount == 1
    db.session.refresh(esc)
    return won


def acknowledge_all(conv: Conversation, user: User) -> list[Escalation]:
    """An adult joined the conversation: every open escalation of it is answered (caller commits)."""
    acked = []
    for esc in open_for(conv.id):
        if esc.acknowledged_at is None and acknowledge(esc, user):
            acked.append(esc)
    return acked


def _resolve(esc: Escalation, now: datetime) -> bool:
    won = db.session.execute(
        update(Escalation).where(Escalation.id == esc.id, Escalation.resolved_at.is_(None))
        .values(resolved_at=now, next_page_at=None)
    ).rowcount == 1
    db.session.refresh(esc)
    return won


def still_applies(esc: Escalation, conv: Conversation) -> bool:
    """Whether the cause of the escalation is still there. Risk and asks need an adult's acknowledgement;
    a wait ends when someone claims, a silence when the texter is answered; a closed conversation whose
    escalation was acknowledged is done."""
    if conv.status == CLOSED:
        return esc.reason not in SELF_RESOLVING and esc.acknowledged_at is None
    if esc.reason == "wait":
        return conv.status == WAITING and episode_at(conv.waiting_since) == esc.episode
    if esc.reason == "no_speaker":  # ends when claimed, when someone who reads the language comes on shift,
        # or when an adult found it is in English after all (language_override)
        return (conv.status == WAITING and episode_at(conv.waiting_since) == esc.episode
                and conv.language not in (None, language.DEFAULT)
                and db.session.scalar(select(Conversation.id).where(
                    Conversation.id == conv.id, ~deadlines.speaker_on_shift())) is not None)
    if esc.reason == "no_reply":
        return (conv.status == ACTIVE and conv.awaiting_reply_since is not None
                and episode_at(conv.awaiting_reply_since) == esc.episode)
    return True


def open_for(conversation_id: int) -> list[Escalation]:
    return list(db.session.scalars(select(Escalation).where(
        Escalation.conversation_id == conversation_id, Escalation.resolved_at.is_(None)).order_by(Escalation.id)))


def unresolved() -> list[Escalation]:
    """Every escalation still on the supervisors' board (open or acknowledged)."""
    return list(db.session.scalars(select(Escalation).where(Escalation.resolved_at.is_(None))
                                   .options(joinedload(Escalation.conversation)).order_by(Escalation.id)))


# ---- telling people -----------------------------------------------------------------------------

def announce(esc: Escalation) -> None:
    """After the commit: the alert on every supervisor console, and a notice in the conversation; a
    sweep timed for its next page."""
    broadcast.alert_changed(esc)
    timers.schedule(esc.next_page_at)


# ---- the sweep ----------------------------------------------------------------------------------

def _resolve_stale(now: datetime) -> list[Escalation]:
    changed = []
    for esc in unresolved():
        if not still_applies(esc, esc.conversation) and _resolve(esc, now):
            changed.append(esc)
    db.session.commit()
    return changed


def _open_deadlines(now: datetime) -> list[Escalation]:
    """Waits, conversations nobody on shift can read, and silences past their deadline that have no
    escalation yet (deadlines.py says which)."""
    opened = []
    silence_after = seconds(DEADLINE_SETTINGS["no_reply"])
    for reason, waiting in (("wait", deadlines.waits(now)), ("no_speaker", deadlines.no_speakers(now))):
        if waiting is None:
            continue
        after = seconds(DEADLINE_SETTINGS[reason])
        for conv in db.session.scalars(select(Conversation).where(
                *waiting, Conversation.waiting_since <= now - after).limit(SWEEP_BATCH)).all():
            opened.append(open_escalation(conv, reason, episode_at(conv.waiting_since), now=now))
    for conv in db.session.scalars(select(Conversation).where(
            *deadlines.silences(), Conversation.awaiting_reply_since <= now - silence_after).limit(SWEEP_BATCH)).all():
        opened.append(open_escalation(conv, "no_reply", episode_at(conv.awaiting_reply_since), now=now))
    db.session.commit()
    return [e for e in opened if e is not None]


def _page_due(now: datetime, advisors: list[User]) -> tuple[list[Escalation], list[Page]]:
    """Page the next advisor for each unacknowledged escalation whose page is due. One page per
    (escalation, pages_sent): the conditional UPDATE decides who sends it."""
    due = db.session.scalars(select(Escalation).where(*deadlines.pages(), Escalation.next_page_at <= now).order_by(Escalation.next_page_at).limit(SWEEP_BATCH)).all()
    if not due:
        return [], []
    repeat = seconds("PAGE_REPEAT_SECONDS")
    changed, pages = [], []
    for esc in due:
        n = esc.pages_sent
        unchanged = and_(Escalation.id == esc.id, Escalation.pages_sent == n, Escalation.resolved_at.is_(None),
                         Escalation.acknowledged_at.is_(None))
        if not advisors:
            # Keep trying: an advisor added to the rota (or put on shift) is paged at the next attempt.
            current_app.logger.error("escalation %s: no advisor with a pager phone on the rota", esc.id)
            db.session.execute(update(Escalation).where(unchanged).values(next_page_at=now + repeat))
            db.session.commit()
            continue
        if n >= len(advisors) * current_app.config["PAGE_MAX_ROUNDS"]:
            current_app.logger.error("escalation %s: paged %s times without acknowledgement; paging stops",
                                     esc.id, n)
            db.session.execute(update(Escalation).where(unchanged).values(next_page_at=None))
            db.session.commit()
            changed.append(esc)
            continue
        advisor = advisors[n % len(advisors)]
        won = db.session.execute(update(Escalation).where(unchanged)
                                 .values(pages_sent=n + 1, next_page_at=now + repeat)).rowcount == 1
        if not won:  # another sweep took this step, or an adult acknowledged meanwhile
            db.session.rollback()
            continue
        conv = esc.conversation
        page = Page(escalation_id=esc.id, seq=n, user_id=advisor.id, status="pending",
                    body=auto_texts.page(conv.texter.alias, payloads.reason_text(esc), conv.id))
        db.session.add(page)
        audit.record("escalation.page", None, "escalation", esc.id, commit=False, advisor_id=advisor.id, seq=n)
        db.session.commit()
        db.session.refresh(esc)
        changed.append(esc)
        pages.append(page)
    return changed, pages


def sweep(now: datetime | None = None) -> dict:
    """One pass over every deadline. Safe to run in several processes at once."""
    now = now or utcnow()
    mirror_rota()  # every pass, pages due or not: it keeps the Redis mirror of the rota current
    advisors = rota()
    resolved = _resolve_stale(now)
    opened = _open_deadlines(now)
    paged, pages = _page_due(now, advisors)
    for esc in {e.id: e for e in [*resolved, *opened, *paged]}.values():
        db.session.refresh(esc)
        announce(esc)
    for page in pages:
        tasks.send_page(page.id)
    timers.swept()
    timers.schedule(deadlines.earliest(now, after=now))  # the next deadline, whoever runs the next sweep
    return {"resolved": len(resolved), "opened": len(opened), "pages": len(pages)}
