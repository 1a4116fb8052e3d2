"""Risk model versions trained on the line's own labels (textline/riskmodels/) and the scores a model in
shadow gave beside the live one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from textline.models.base import Base, UTCDateTime, utcnow

# candidate: trained, not scoring; shadow: scores every new text beside the live model, never acted on;
# live: scores for real; retired: was live (any can be made live again: rollback); discarded: set aside.
CANDIDATE, SHADOW, LIVE, RETIRED, DISCARDED = "candidate", "shadow", "live", "retired", "discarded"
MODEL_STATUSES = (CANDIDATE, SHADOW, LIVE, RETIRED, DISCARDED)


class RiskModelVersion(Base):
    """One trained model: the JSON document textline/safety/risk/model.py scores, how it was trained and
    how it did on the frozen test split and the blind sets. At most one is live and one in shadow (the
    partial unique indexes); with none live, the packaged data/risk_model.json scores."""

    __tablename__ = "risk_models"
    __table_args__ = (
        Index("uq_risk_models_live", "status", unique=True,
              sqlite_where=text("status = 'live'"), postgresql_where=text("status = 'live'")),
        Index("uq_risk_models_shadow", "status", unique=True,
              sqlite_where=text("status = 'shadow'"), postgresql_where=text("status = 'shadow'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=CANDIDATE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The model document (n-gram weights). It holds word n-grams of the texts it was trained on: it stays
    # in this database, on the line's own machines, like the texts (README, "Retraining").
    document: Mapped[dict] = mapped_column(JSON)
    # {"rows": n, "line_labels": n, "files": [...], "split": "..."}: what it was trained on (no words).
    trained_on: Mapped[dict] = mapped_column(JSON, default=dict)
    # {"<set>": {"live": {...}, "candidate": {...}}}: the scorer with this model and with the live one.
    evaluation: Mapped[dict] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ShadowScore(Base):
    """What the model in shadow made of one inbound text: recorded, never acted on. No words."""

    __tablename__ = "shadow_scores"
    __table_args__ = (UniqueConstraint("message_id", "model_id", name="uq_shadow_scores_message_model"),
                      Index("ix_shadow_scores_model", "model_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    model_id: Mapped[int] = mapped_column(ForeignKey("risk_models.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
