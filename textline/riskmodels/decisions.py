"""An admin's decisions about risk models, each audited and announced to every process (live.bump()):

- shadow(m): a candidate (or a retired/discarded model) scores every new text beside the live one; the
  model in shadow before it goes back to candidate;
- promote(m): m scores for real; the live one before it is retired (kept, for rollback);
- use_packaged(): no stored model is live: the packaged data/risk_model.json scores again (rollback to
  where the line started);
- discard(m): set aside (not deleted: the audit log and shadow scores point at it).

At most one model is live and one in shadow: the partial unique indexes hold that even when two admins
decide at once (the second one's commit fails and is reported, nothing half-done).
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from textline.accounts import audit
from textline.extensions import db
from textline.models import (
    CANDIDATE, DISCARDED, LIVE, RETIRED, SHADOW, RiskModelVersion, User, utcnow,
)
from textline.riskmodels import live


class DecisionError(ValueError):
    """A decision that cannot be made (the message says why, for the admin)."""


def _model(model_id: int) -> RiskModelVersion:
    model = db.session.get(RiskModelVersion, model_id)
    if model is None:
        raise DecisionError(f"there is no risk model {model_id}")
    return model


def _commit(action: str, by: User | None, model_id: int | None, **details) -> None:
    audit.record(action, by, "risk_model", model_id, commit=False, **details)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DecisionError("another admin changed the risk models at the same moment: look again") from None
    live.bump()
    live.forget()


def _demote(status: str, to: str) -> None:
    db.session.execute(update(RiskModelVersion).where(RiskModelVersion.status == status).values(status=to))
    db.session.flush()


def _decided(model: RiskModelVersion, status: str, by: User | None) -> str:
    before, model.status = model.status, status
    model.decided_at, model.decided_by_id = utcnow(), getattr(by, "id", None)
    return before


def shadow(model_id: int, by: User | None) -> RiskModelVersion:
    model = _model(model_id)
    if model.status in (SHADOW, LIVE):
        raise DecisionError(f"model {model_id} is already {model.status}")
    _demote(SHADOW, CANDIDATE)
    before = _decided(model, SHADOW, by)
    _commit("risk_model.shadow", by, model.id, before=before)
    return model


def promote(model_id: int, by: User | None) -> RiskModelVersion:
    model = _model(model_id)
    if model.status == LIVE:
        raise DecisionError(f"model {model_id} is already live")
    replaced = db.session.scalar(select(RiskModelVersion.id).where(RiskModelVersion.status == LIVE))
    _demote(LIVE, RETIRED)
    before = _decided(model, LIVE, by)
    _commit("risk_model.promote", by, model.id, before=before, replaced=replaced or "packaged")
    return model


def use_packaged(by: User | None) -> None:
    replaced = db.session.scalar(select(RiskModelVersion.id).where(RiskModelVersion.status == LIVE))
    if replaced is None:
        raise DecisionError("the packaged model is already live")
    _demote(LIVE, RETIRED)
    _commit("risk_model.use_packaged", by, replaced, replaced=replaced)


def discard(model_id: int, by: User | None) -> RiskModelVersion:
    model = _model(model_id)
    if model.status == LIVE:
        raise DecisionError("a live model cannot be discarded: promote another one or use the packaged model")
    if model.status == DISCARDED:
        raise DecisionError(f"model {model_id} is already discarded")
    before = _decided(model, DISCARDED, by)
    _commit("risk_model.discard", by, model.id, before=before)
    return model
