"""Shadow scoring: the model in shadow reads every new inbound text as the live one did (the same
lexicon and the same conversation-level rule), and what it made of it is recorded in shadow_scores.
Nothing reads those rows but the comparison on the risk models page: the queue order, alerts and pages
come from the live model only."""
from __future__ import annotations

from textline import tasks
from textline.extensions import db
from textline.models import INBOUND, Message, ShadowScore
from textline.models.upsert import insert_for
from textline.riskmodels import live
from textline.safety.risk.in_conversation import risk_in_conversation


def queue(message_id: int) -> None:
    """After an inbound text is stored: have it scored in shadow, if a model is in shadow."""
    if live.current().shadow_id is not None:
        tasks.score_in_shadow(message_id)


def record(message_id: int) -> bool:
    """Score one stored inbound text with the model in shadow; True if a score was recorded now (False: no
    model in shadow, no such text, its words erased, or already recorded: a redelivered task)."""
    shadow = live.shadow_scorer()
    msg = db.session.get(Message, message_id)
    if shadow is None or msg is None or msg.direction != INBOUND or msg.conversation.content_erased_at:
        return False
    model_id, scorer = shadow
    risk = risk_in_conversation(msg.conversation_id, msg.body, scorer.score(msg.body).to_dict(),
                                msg.created_at, before_id=msg.id)
    stmt = insert_for(db.session, ShadowScore).values(
        message_id=msg.id, model_id=model_id, level=risk["level"], score=risk["score"],
        probability=risk.get("model_probability")).on_conflict_do_nothing(
        index_elements=["message_id", "model_id"]).returning(ShadowScore.id)
    recorded = db.session.execute(stmt).scalar() is not None
    db.session.commit()
    return recorded
