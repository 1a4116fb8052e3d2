"""Labels of risk from the line's adults: one click marks a texter's message or a whole conversation
"needed an adult now" or "false alarm" (again on the same verdict clears it). The volunteer's wrap-up
"assessed risk" is a label too, read from the disposition (textline/console/wrap_up.py), never copied.

A label carries no words, but it is about words: it goes when retention or an erasure removes the words
of its conversation (forget(), called by textline/ops/retention.py), and a conversation whose words are
gone cannot be labelled.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from textline.accounts import audit
from textline.accounts.permissions import can_supervise
from textline.extensions import db
from textline.models import FALSE_ALARM, INBOUND, NEEDED, VERDICTS, Conversation, Message, RiskLabel, User, utcnow
from textline.models.upsert import insert_for
from textline.texting.conversations import ConversationError, get_conversation
from textline.ops.request_args import whole_number

# The volunteer's assessed risk (wrap_up.RISK_LEVELS) as a label: "high" says an adult was needed, "none"
# and "low" say it was ordinary; "medium" says neither, so it is no label.
WRAP_UP_VERDICTS = {"high": NEEDED, "low": FALSE_ALARM, "none": FALSE_ALARM}
TEXT = {NEEDED: "Needed an adult now", FALSE_ALARM: "False alarm"}


def wrap_up_verdict(conv: Conversation) -> str | None:
    """The volunteer's label of the conversation, if they gave one (and the words are still kept)."""
    if conv.content_erased_at is not None or not conv.disposition:
        return None
    return WRAP_UP_VERDICTS.get(conv.disposition.get("risk"))


def summary(conv: Conversation) -> dict:
    """What the dashboard shows: the adults' labels of the conversation and of its messages, and the
    volunteer's wrap-up label."""
    rows = db.session.scalars(select(RiskLabel).where(RiskLabel.conversation_id == conv.id)).all()
    whole = next((r for r in rows if r.message_id is None), None)
    return {"conversation_id": conv.id, "conversation": whole.verdict if whole else None,
            "messages": {str(r.message_id): r.verdict for r in rows if r.message_id is not None},
            "wrap_up": wrap_up_verdict(conv)}


def _target(conversation_id, message_id, user: User) -> tuple[Conversation, Message | None]:
    conv = get_conversation(conversation_id)
    if not can_supervise(user, conv):
        raise ConversationError("Only adult advisors can label risk.", "forbidden")
    if conv.content_erased_at is not None:
        raise ConversationError("This conversation's words were erased: there is nothing left to label.", "erased")
    if message_id in (None, ""):
        return conv, None
    msg_id = whole_number(message_id)
    msg = db.session.get(Message, msg_id) if msg_id is not None else None
    if msg is None or msg.conversation_id != conv.id:
        raise ConversationError("That message is not in this conversation.", "not_found")
    if msg.direction != INBOUND:
        raise ConversationError("Only the texter's messages are scored, so only they can be labelled.", "refused")
    return conv, msg


def _current(conv_id: int, msg_id: int | None) -> RiskLabel | None:
    where = RiskLabel.message_id == msg_id if msg_id is not None else RiskLabel.message_id.is_(None)
    return db.session.scalar(select(RiskLabel).where(RiskLabel.conversation_id == conv_id, where))


def _upsert(conv_id: int, msg_id: int | None, verdict: str, user: User) -> None:
    """One statement, so two adults clicking at once make one row (the later click wins)."""
    target = ({"index_elements": ["message_id"], "index_where": RiskLabel.message_id.is_not(None)} if msg_id
              else {"index_elements": ["conversation_id"], "index_where": RiskLabel.message_id.is_(None)})
    values = {"verdict": verdict, "by_id": user.id, "at": utcnow()}
    db.session.execute(insert_for(db.session, RiskLabel).values(conversation_id=conv_id, message_id=msg_id, **values)
                       .on_conflict_do_update(**target, set_=values))


def set_label(conversation_id, message_id, verdict, user: User) -> dict:
    """Label a message (message_id) or the whole conversation; verdict None clears it. Audited and
    committed; returns the conversation's summary()."""
    if verdict is not None and verdict not in VERDICTS:
        raise ConversationError(f"A label is one of: {', '.join(VERDICTS)}.", "refused")
    conv, msg = _target(conversation_id, message_id, user)
    msg_id = msg.id if msg else None
    row = _current(conv.id, msg_id)
    previous = row.verdict if row else None
    if verdict is None:
        if row is not None:
            db.session.delete(row)
    else:
        _upsert(conv.id, msg_id, verdict, user)
    if verdict != previous:
        audit.record("risk_label.clear" if verdict is None else "risk_label.set", user, "conversation", conv.id,
                     commit=False, message_id=msg_id, verdict=verdict, previous=previous)
    db.session.commit()
    return summary(conv)


def forget(conversation_ids: list[int]) -> int:
    """Retention and erasure: the labels of these conversations go with their words (caller's transaction)."""
    if not conversation_ids:
        return 0
    return db.session.execute(delete(RiskLabel).where(RiskLabel.conversation_id.in_(conversation_ids))
                              .execution_options(synchronize_session=False)).rowcount
