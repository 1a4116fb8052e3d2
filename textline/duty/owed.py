"""When a report decision is owed: the risk lexicon read a live abuse/violence disclosure in a texter's text
(in the webhook's own transaction, so a retried webhook cannot lose or repeat it), or an adult marked the
conversation. One decision per conversation: the unique conversation_id makes the second ask a no-op."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from textline.accounts import audit
from textline.extensions import db
from textline.models import Conversation, ReportDecision, User, utcnow
from textline.models.upsert import insert_for

# The lexicon's categories (textline/data/risk_lexicon.yaml) that may mean a child is being harmed by
# someone: a decision whether to tell the authorities is then owed.
ABUSE_CATEGORIES = ("abuse_violence",)


def abuse_disclosed(assessment: dict | None) -> bool:
    """A live lexicon hit in an abuse category: not negated, not in the past, not a joke."""
    return any(m.get("category") in ABUSE_CATEGORIES and not m.get("negated") and not m.get("lowered")
               for m in (assessment or {}).get("matches", ()))


def _insert_once(values: dict) -> int | None:
    """INSERT ... ON CONFLICT (conversation_id) DO NOTHING RETURNING id: the new id, or None if one was owed."""
    stmt = insert_for(db.session, ReportDecision).values(**values).on_conflict_do_nothing(
        index_elements=["conversation_id"]).returning(ReportDecision.id)
    return db.session.execute(stmt).scalar()


def for_risk(conv: Conversation, assessment: dict, now: datetime | None = None) -> ReportDecision | None:
    """In the inbound text's transaction: owe a decision if the text discloses abuse (None if not, or if
    one is already owed or made). Training conversations owe nothing."""
    if conv.training or not abuse_disclosed(assessment):
        return None
    new_id = _insert_once({"conversation_id": conv.id, "trigger": "risk", "owed_at": now or utcnow(),
                           "legal_hold": False})
    if new_id is None:
        return None
    audit.record("report.owed", None, "report_decision", new_id, commit=False, conversation_id=conv.id,
                 trigger="risk")
    return db.session.get(ReportDecision, new_id)


def mark(conv: Conversation, user: User, now: datetime | None = None) -> tuple[ReportDecision, bool]:
    """An adult marks a conversation as needing a report decision. Returns (the decision, whether new);
    the caller commits."""
    new_id = _insert_once({"conversation_id": conv.id, "trigger": "marked", "owed_at": now or utcnow(),
                           "marked_by_id": user.id, "legal_hold": False})
    if new_id is None:
        return for_conversation(conv.id), False
    audit.record("report.owed", user, "report_decision", new_id, commit=False, conversation_id=conv.id,
                 trigger="marked")
    return db.session.get(ReportDecision, new_id), True


def for_conversation(conversation_id: int) -> ReportDecision | None:
    return db.session.scalar(select(ReportDecision).where(ReportDecision.conversation_id == conversation_id))


def still_owed() -> list[ReportDecision]:
    """Every decision not yet made, oldest first."""
    return list(db.session.scalars(select(ReportDecision).where(ReportDecision.decided_at.is_(None))
                                   .order_by(ReportDecision.owed_at, ReportDecision.id)))
