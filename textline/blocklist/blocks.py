"""Blocking a texter: what an adult does, and what the inbound path asks.

A block names the texter row (their key), never a number; the adult makes it from a conversation on the
dashboard. While it is in force the texter's texts are stored and shown to adults but not queued (their
open conversation has status "blocked"), and they get at most one automatic reply a day, which carries
crisis resources (inbound_rules.py). Risk is still scored and a high-risk text still escalates: safety
beats the block. Every block, change and lift is an audit event; the adults' review page lists them.

When a block is lifted, or expires (beat's minute sweep, or the texter's next text, whichever is first),
their held-back conversation joins the queue.
Erasing a texter (retention.erase_texter) lifts their block: the line no longer knows who they are.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from textline import broadcast
from textline.accounts import audit
from textline.accounts.permissions import can_supervise
from textline.extensions import db
from textline.models import ACTIVE, BLOCKED, WAITING, Conversation, Texter, TexterBlock, User, utcnow
from textline.ops.request_args import whole_number
from textline.safety import deadlines, notices, timers
from textline.texting import queue_sync
from textline.texting.conversations import ConversationError, get_conversation

REPLY_EVERY = timedelta(days=1)  # a blocked texter's automatic replies: at most one per this
MAX_REASON = 500


class BlockError(ConversationError):
    """A refused block, change or lift, with a message fit to show the adult."""


def in_force(texter_id: int, now: datetime) -> TexterBlock | None:
    return db.session.scalar(select(TexterBlock).where(TexterBlock.texter_id == texter_id,
                                                       TexterBlock.in_force_at(now)))


def _reason(raw) -> str:
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        raise BlockError("Say why (the other adults review every block).", "reason", "reason")
    if len(reason) > MAX_REASON:
        raise BlockError(f"The reason is too long ({len(reason)} characters, {MAX_REASON} at most).", "reason",
                         "reason")
    return reason


def _days(raw) -> int:
    most = current_app.config["BLOCK_MAX_DAYS"]
    days = whole_number(raw, 1, most)
    if days is None:
        raise BlockError(f"Choose how long: 1 to {most} days.", "days", "days")
    return days


def block(conversation_id, user: User, reason, days) -> TexterBlock:
    """Block the texter of a conversation. Their waiting conversation leaves the queue at once; one a
    volunteer holds stays with them until it ends (the next one is held back)."""
    conv = get_conversation(conversation_id)
    if not can_supervise(user, conv):
        raise BlockError("Only adult advisors can block a texter.", "forbidden")
    reason, days = _reason(reason), _days(days)
    now = utcnow()
    if in_force(conv.texter_id, now) is not None:
        raise BlockError(f"{conv.texter.alias} is already blocked: change that block on the review page.",
                         "already_blocked")
    _close_expired(conv.texter_id, now)
    entry = TexterBlock(texter_id=conv.texter_id, conversation_id=conv.id, reason=reason, created_by_id=user.id,
                        created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:  # another adult blocked them at the same moment: theirs stands
        db.session.rollback()
        raise BlockError(f"{conv.texter.alias} has just been blocked by someone else.", "already_blocked") from None
    held = db.session.execute(
        update(Conversation).where(Conversation.id == conv.id, Conversation.status == WAITING)
        .values(status=BLOCKED).execution_options(synchronize_session=False)).rowcount
    audit.record("texter.block", user, "texter", conv.texter_id, commit=False, block_id=entry.id,
                 conversation_id=conv.id, days=days, held_back=bool(held))
    db.session.commit()
    db.session.refresh(conv)
    if held:
        queue_sync.remove(conv.id, f"blocked conversation {conv.id} leaves Redis at the next repair")
    elif conv.status == ACTIVE and conv.volunteer_id not in (None, user.id):
        notices.blocked_while_held(conv)
    broadcast.conversation_changed(conv)
    return entry


def _close_expired(texter_id: int, now: datetime) -> None:
    """An expired block still holds the texter's one unlifted place (beat's sweep has not marked it yet)."""
    for entry in db.session.scalars(select(TexterBlock).where(
            TexterBlock.texter_id == texter_id, TexterBlock.lifted_at.is_(None), TexterBlock.expires_at <= now)):
        _mark_expired(entry)


def _mark_expired(entry: TexterBlock) -> bool:
    """In the caller's transaction: lifted at its expiry, by nobody, audited as the system's. True if this
    call did it (a conditional UPDATE: overlapping sweeps mark it once)."""
    won = db.session.execute(update(TexterBlock).where(TexterBlock.id == entry.id, TexterBlock.lifted_at.is_(None))
                             .values(lifted_at=entry.expires_at).execution_options(synchronize_session=False)
                             ).rowcount == 1
    if won:
        audit.record("texter.block_lift", None, "texter", entry.texter_id, commit=False, block_id=entry.id,
                     why="expired")
    return won


def _get(block_id) -> TexterBlock:
    bid = whole_number(block_id)
    entry = db.session.get(TexterBlock, bid) if bid is not None else None
    if entry is None:
        raise BlockError("That block does not exist.", "not_found")
    return entry


def change(block_id, user: User, reason, days) -> TexterBlock:
    """A new reason and a new expiry (`days` from now) for a block still in force."""
    entry = _get(block_id)
    if not user.is_supervisor:
        raise BlockError("Only adult advisors can change a block.", "forbidden")
    if not entry.in_force(utcnow()):
        raise BlockError("That block is no longer in force: block the texter again from their conversation.",
                         "ended")
    reason, days = _reason(reason), _days(days)
    before = entry.expires_at
    entry.reason, entry.expires_at = reason, utcnow() + timedelta(days=days)
    audit.record("texter.block_change", user, "texter", entry.texter_id, commit=False, block_id=entry.id,
                 days=days, expires_before=before.isoformat())
    db.session.commit()
    return entry


def lift(block_id, user: User | None, why: str = "lifted") -> TexterBlock:
    """End a block now: their held-back conversation joins the queue. `user` None = the system (erasure)."""
    entry = _get(block_id)
    if user is not None and not user.is_supervisor:
        raise BlockError("Only adult advisors can lift a block.", "forbidden")
    now = utcnow()
    won = db.session.execute(update(TexterBlock).where(TexterBlock.id == entry.id, TexterBlock.lifted_at.is_(None))
                             .values(lifted_at=now, lifted_by_id=user.id if user else None)
                             .execution_options(synchronize_session=False)).rowcount
    if not won:
        db.session.rollback()
        return entry
    audit.record("texter.block_lift", user, "texter", entry.texter_id, commit=False, block_id=entry.id, why=why)
    db.session.commit()
    db.session.refresh(entry)
    release_held(entry.texter_id, now)
    return entry


def release_held(texter_id: int, now: datetime) -> Conversation | None:
    """The texter's held-back conversation, if any, joins the queue (committed, then Redis and consoles)."""
    conv = db.session.scalar(select(Conversation).where(Conversation.texter_id == texter_id,
                                                        Conversation.status == BLOCKED))
    if conv is None:
        return None
    done = db.session.execute(update(Conversation).where(Conversation.id == conv.id, Conversation.status == BLOCKED)
                              .values(status=WAITING, queued_at=now, waiting_since=now)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not done:
        return None
    db.session.refresh(conv)
    announce_released(conv)
    return conv


def announce_released(conv: Conversation) -> None:
    queue_sync.enqueue(conv, f"conversation {conv.id} will be queued when Redis returns")
    broadcast.conversation_changed(conv)
    timers.schedule(deadlines.next_for(conv))


def expire_due(now: datetime | None = None) -> int:
    """Blocks past their expiry are marked so (lifted_at = expires_at, by nobody, audited as the system's),
    and each texter's held-back conversation joins the queue. Run by beat every minute; safe to repeat."""
    now = now or utcnow()
    due = db.session.scalars(select(TexterBlock).where(TexterBlock.lifted_at.is_(None),
                                                       TexterBlock.expires_at <= now)).all()
    expired = 0
    for entry in due:
        won = _mark_expired(entry)
        db.session.commit()
        if won:
            expired += 1
            if in_force(entry.texter_id, now) is None:
                release_held(entry.texter_id, now)
    return expired


def lift_for_erased(texter: Texter) -> None:
    """In the erasure's transaction: the texter is forgotten, so is their block (audited as the system's)."""
    for entry in db.session.scalars(select(TexterBlock).where(TexterBlock.texter_id == texter.id,
                                                               TexterBlock.lifted_at.is_(None))):
        entry.lifted_at = utcnow()
        audit.record("texter.block_lift", None, "texter", texter.id, commit=False, block_id=entry.id, why="erased")


def claim_daily_reply(entry: TexterBlock, now: datetime) -> bool:
    """Whether this text may have the automatic reply: one a day per block. A conditional UPDATE, so two
    texts at the same moment send one."""
    won = db.session.execute(
        update(TexterBlock).where(TexterBlock.id == entry.id, or_(TexterBlock.last_reply_at.is_(None),
                                                                  TexterBlock.last_reply_at <= now - REPLY_EVERY))
        .values(last_reply_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if won:
        entry.last_reply_at = now
    return won


def for_review(limit: int = 200) -> list[TexterBlock]:
    """Every block, newest first: what the adults' review page lists."""
    return list(db.session.scalars(select(TexterBlock).order_by(TexterBlock.id.desc()).limit(limit)))


def state(entry: TexterBlock, now: datetime) -> str:
    if entry.lifted_at is not None:
        return "expired" if entry.lifted_by_id is None and entry.lifted_at == entry.expires_at else "lifted"
    return "in force" if entry.expires_at > now else "expired"


def summary(conv: Conversation) -> dict | None:
    """The block in force on a conversation's texter, as the dashboard shows it (None if not blocked)."""
    entry = in_force(conv.texter_id, utcnow())
    if entry is None:
        return None
    return {"id": entry.id, "reason": entry.reason, "expires_at": entry.expires_at.isoformat(),
            "by": entry.created_by.display_name if entry.created_by else None}
