"""A text arrives: store it durably (once, whatever Twilio retries), decide what follows from it in the
same transaction (textline/texting/inbound_rules.py), then queue it and tell the consoles.
SQL is written first (the record); Redis and the consoles are told after.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from textline import broadcast, payloads, tasks
from textline.blocklist import floods
from textline.extensions import db
from textline.models import (
    ACTIVE, BLOCKED, CLOSED, INBOUND, WAITING, Conversation, Message, MessageMedia, Texter, TexterBlock, TexterPhone,
    utcnow,
)
from textline.safety import deadlines, escalation, notices, timers
from textline.riskmodels import live as risk_models
from textline.safety.risk.in_conversation import risk_in_conversation
from textline.texting import conversations, inbound_rules, language, outgoing, queue_sync, survey
from textline.texting.privacy import alias_for, parse_address, phone_hash
from textline.texting.storable import storable

# A texter's last_seen_at is kept to the minute: nothing reads it finer (retention goes by
# conversations, presence lives in Redis), so most texts skip its UPDATE.
SEEN_EVERY = timedelta(minutes=1)


@dataclass
class Inbound:
    conversation: Conversation
    message: Message
    opened: bool = False          # a new conversation started with this message
    duplicate: bool = False       # Twilio retried a MessageSid we already have
    outbound: list[Message] = field(default_factory=list)  # automatic texts to send after commit
    escalations: list = field(default_factory=list)        # alerts to raise after commit
    needs_review: bool = False    # risk rose to medium: adults are told, nobody is paged
    reordered: bool = False       # opened, or its priority rose: its place in the queue may have changed
    changed: bool = True          # consoles need a `conversation` event (more changed than the message says)
    level_before: str = "none"    # the conversation's risk level before this text
    closed_from: str | None = None  # the text closed the conversation (STOP); its status before
    reports_owed: bool = False    # a report decision became owed (abuse disclosed): the adults' work list changed
    spool_page: object = None     # replayed from the spool: the page already sent about it (spool_pages)
    block: TexterBlock | None = None  # the texter is blocked: stored, not queued (textline/blocklist/)
    unqueued: bool = False        # it was waiting and is held back now (its texter was blocked meanwhile)
    flooding: bool = False        # over FLOOD_RATE: no queue re-announcement, no repeated keyword replies
    due_before: datetime | None = None  # the conversation's own deadline before this text (deadlines.next_for)


def _look_up(number: str, hashed: str, now: datetime) -> tuple[Texter, Conversation | None, TexterBlock | None]:
    """The texter (created on their first text), their open conversation if any (with its volunteer, whom
    the consoles' payload names) and their block in force if any: one query for all three. At most one
    row comes back: a texter has one open conversation and one unlifted block at most (unique indexes).
    `number` is the texter's address as parse_address gives it (E.164, or whatsapp:+E.164); `hashed`
    its texter key (phone_hash)."""
    row = db.session.execute(
        select(Texter, Conversation, TexterBlock)
        .outerjoin(Conversation, and_(Conversation.texter_id == Texter.id, Conversation.status != CLOSED))
        .outerjoin(TexterBlock, and_(TexterBlock.texter_id == Texter.id, TexterBlock.in_force_at(now)))
        # The phone row comes too: it is checked on every text (erased numbers come back).
        .options(joinedload(Texter.phone), joinedload(Conversation.volunteer))
        .where(Texter.phone_hash == hashed)
    ).first()
    if row is None:
        texter = Texter(phone_hash=hashed, alias=alias_for(hashed))
        texter.phone = TexterPhone(number=number)
        db.session.add(texter)
        db.session.flush()
        return texter, None, None
    texter, conv, block = row
    if texter.phone is None:  # erased on request earlier, and they texted again
        texter.phone = TexterPhone(number=number)
    if conv is not None:
        # The texter in hand is its texter: linked without a query, and kept alive (the session holds
        # loaded objects only weakly) for the payloads built after the commit.
        set_committed_value(conv, "texter", texter)
    return texter, conv, block


def _seen(texter: Texter, now: datetime) -> None:
    if texter.last_seen_at is None or now - texter.last_seen_at >= SEEN_EVERY:
        texter.last_seen_at = now


def _open_conversation(texter: Texter, now: datetime, body: str, training: bool = False,
                       channel: str = "sms", blocked: bool = False) -> Conversation:
    """A new conversation opened by `body` (its language judged on that first text in the INSERT, not by
    an UPDATE after it)."""
    conv = Conversation(texter=texter, status=BLOCKED if blocked else WAITING, opened_at=now, queued_at=now,
                        waiting_since=now, last_inbound_at=now, priority=0, risk_level="none", risk_reasons=[],
                        training=training, channel=channel, language=language.decide([body]))
    db.session.add(conv)
    db.session.flush()
    return conv


def _hold_or_release(result: Inbound, now: datetime) -> None:
    """An open conversation follows its texter's block: held back while one is in force, queued again
    once it has expired (a lifted block queued it already: blocks.lift)."""
    conv = result.conversation
    if result.block is not None and conv.status == WAITING:
        conv.status, result.unqueued = BLOCKED, True
    elif result.block is None and conv.status == BLOCKED:
        conv.status, conv.queued_at, conv.waiting_since, result.reordered = WAITING, now, now, True


def _earlier_texts(conv: Conversation, opened: bool) -> list[str]:
    """The texter's earlier texts in a conversation whose language is not known yet, oldest first (a
    bounded look-up, only for the first few texts of a conversation: language.decide)."""
    if opened or conv.language is not None:
        return []
    return list(db.session.scalars(select(Message.body).where(
        Message.conversation_id == conv.id, Message.direction == INBOUND)
        .order_by(Message.id).limit(3 * language.DETECT_TEXTS)))


def raise_risk(conv: Conversation, assessment: dict) -> bool:
    """A conversation's priority is the highest risk seen in it. Returns True if it went up."""
    reasons = list(conv.risk_reasons or [])
    for reason in assessment.get("reasons", []):
        if reason not in reasons:
            reasons.append(reason)
    conv.risk_reasons = reasons[:12]
    if assessment["score"] <= conv.priority:
        return False
    conv.priority = assessment["score"]
    conv.risk_level = assessment["level"]
    return True


def _commit_keeping_values() -> None:
    """Commit without expiring what this transaction loaded and wrote: the consoles' payloads are built
    from those values after the commit instead of being read back (4-5 SELECTs per webhook). Only
    for the webhook's own objects; the flag is put back at once."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _already_stored(message_sid: str) -> Inbound | None:
    existing = db.session.scalar(select(Message).where(Message.twilio_sid == message_sid))
    return Inbound(existing.conversation, existing, duplicate=True) if existing is not None else None


def receive_inbound(number: str, body: str, message_sid: str, training: bool = False,
                    received_at: datetime | None = None,
                    media: tuple[tuple[str, str | None], ...] = (), paged=None) -> Inbound:
    """Store one texter message durably. Safe to call again with the same MessageSid: the unique
    twilio_sid makes a retry's INSERT fail, the transaction is rolled back and the stored one returned
    (no look-up first: retries are rare, and every webhook would pay for it).

    `training` marks a conversation it opens as practice (simulator, training deployments only);
    `received_at`: when the webhook really arrived, for a text replayed from the spool (waits, deadlines);
    `media` is what came with the text, (URL, content type) in Twilio's order; `paged`: for a text
    replayed from the spool, the page already sent about it (its escalation records it, pages nobody)."""
    channel, number = parse_address(number)
    body, replaced = storable(body)
    assessment = risk_models.score(body).to_dict()  # with an admin's lexicon edits and the live model
    texter_key = phone_hash(number, current_app.config["PHONE_HASH_KEY"])
    # Counted before the transaction (a Redis call must not hold SQLite's write lock), and only as texts
    # arrive: a backlog replayed from the spool after an outage is not the texter flooding.
    flooding = floods.flooding(texter_key) if received_at is None else False
    for attempt in range(3):  # concurrent webhooks can race on the texter / open-conversation rows
        try:
            now = received_at or utcnow()
            texter, conv, block = _look_up(number, texter_key, now)
            answer = survey.take_answer(texter, body, message_sid, assessment, mid_conversation=conv is not None)
            if answer is not None:  # a score for the survey after a closed conversation: no new one
                _seen(texter, now)
                _commit_keeping_values()
                msg, thanks = answer
                return Inbound(msg.conversation, msg, outbound=[thanks])
            opened = conv is None
            if opened:
                conv = _open_conversation(texter, now, body, training, channel, blocked=block is not None)
            due_before = None if opened else deadlines.next_for(conv)
            risk = assessment if opened else risk_in_conversation(conv.id, body, assessment, now)
            shown_before = None if opened else payloads.conversation_shown(conv)
            earlier = _earlier_texts(conv, opened)  # read before anything is written (SQLite's write lock)
            # Written after the look-ups, so these UPDATEs go out in the commit's one flush with the INSERT
            # (on SQLite the write lock is then held for that flush only).
            _seen(texter, now)
            msg = Message(conversation=conv, direction=INBOUND, author_kind="texter", body=body,
                          twilio_sid=message_sid, status="received", risk=risk, created_at=now,
                          replaced_chars=replaced or None,
                          media=[MessageMedia(position=n, url=storable(url)[0],
                                              content_type=storable(kind)[0] if kind else None)
                                 for n, (url, kind) in enumerate(media)])
            db.session.add(msg)
            conv.last_inbound_at = now
            if conv.language is None and not opened:  # decided on the first texts, then kept (language.py)
                conv.language = language.decide([*earlier, body])
            if conv.status == ACTIVE and conv.awaiting_reply_since is None:
                conv.awaiting_reply_since = now  # the volunteer's no-reply clock starts
            level_before = conv.risk_level
            rose = raise_risk(conv, risk)
            result = Inbound(conv, msg, opened=opened, reordered=opened or rose, level_before=level_before,
                             needs_review=conv.risk_level == "medium" and level_before in ("none", "low"),
                             spool_page=paged, block=block, flooding=flooding and not opened, due_before=due_before)
            _hold_or_release(result, now)
            inbound_rules.apply(result, texter, risk)  # keywords, automatic texts, risk escalation
            result.changed = opened or payloads.conversation_shown(conv) != shown_before
            _commit_keeping_values()
            return result
        except IntegrityError:
            db.session.rollback()
            duplicate = _already_stored(message_sid)
            if duplicate is not None:
                return duplicate
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def announce_inbound(result: Inbound) -> None:
    """After the commit: queue it, tell the consoles, hand automatic texts to the sender."""
    conv, msg = result.conversation, result.message
    for esc in result.escalations:  # first: a high-risk alert must not wait for anything else
        escalation.announce(esc)
    if result.reports_owed:
        broadcast.work_changed()
    if result.needs_review and not result.escalations:
        notices.review_needed(conv)
    if result.unqueued:
        queue_sync.remove(conv.id, f"blocked conversation {conv.id} leaves Redis at the next repair")
    if conv.status == WAITING and result.reordered:  # its one row, not the whole queue (issue 17)
        queue_sync.enqueue(conv, f"conversation {conv.id} will be queued when Redis returns")
    elif conv.status == WAITING and not result.flooding:  # same score, same place: one row to the consoles
        queue_sync.publish_queue_item(conv)
    broadcast.message_added(msg)
    if result.closed_from is not None:
        conversations.after_close(conv, was_waiting=result.closed_from == WAITING)
    elif conv.status != WAITING and result.changed:  # else the `message` event says all that changed
        broadcast.conversation_changed(conv)
    outgoing.send(*result.outbound)
    due = deadlines.next_for(conv)
    if due != result.due_before:  # an unmoved deadline had its sweep timed by the text that set it
        timers.schedule(due)
    tasks.fetch_media(*(item.id for item in msg.media))  # pictures: fetched from Twilio by a worker
    if result.flooding and conv.status != CLOSED and floods.first_notice(conv.texter.phone_hash):
        notices.flood(conv)
