"""Which model scores inbound texts in this process: the live stored model, or the packaged one when none
is live; and the model in shadow, if any.

Every web process and worker keeps its scorers in memory. A promotion, rollback or new shadow bumps a
version in Redis (bump(): a new random token, so a Redis that restarted empty cannot count back up to a
version a process already holds); each process looks at it at most every CHECK_EVERY seconds and reloads
from SQL when it changed, so a decision takes effect everywhere within seconds, without a restart. If Redis
or SQL does not answer, the process keeps scoring with what it has: scoring never waits for either
(a texter's text is scored even while SQL is down, to page an adult from the spool).
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from textline.extensions import db
from textline.models import LIVE, SHADOW, RiskModelVersion
from textline.ops.followed_version import FollowedVersion
from textline.redis_store import get_redis, key
from textline.safety.risk import RiskAssessment, RiskModel, RiskScorer, score_text
from textline.safety.risk.model import model_from_dict
from textline.safety.risk.scorer import packaged_lexicon, use_model
from textline.triage import lexicon_edits

VERSION = key("risk", "models", "version")
CHECK_EVERY = 2.0  # seconds: how soon every process follows a decision
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Models:
    version: str | None
    live_id: int | None         # None: the packaged model scores
    shadow_id: int | None
    shadow: RiskModel | None


_PACKAGED = Models(None, None, None, None)
_lock = threading.Lock()
_state = {"models": _PACKAGED, "shadow_scorer": None}
_followed = FollowedVersion(VERSION, CHECK_EVERY)


def bump() -> None:
    """Tell every process that the live or shadow model changed (after the change has committed)."""
    try:
        get_redis().set(VERSION, uuid.uuid4().hex)
    except RedisError as exc:  # the processes find out when Redis is back (their version differs then)
        log.warning("risk model change not announced: %s", exc)


def _model(row: RiskModelVersion | None) -> RiskModel | None:
    return model_from_dict(row.document, f"risk model {row.id}") if row else None


def _load(version: str | None) -> Models:
    with db.engine.connect() as conn:  # not the request's session: its transaction is left alone
        rows = {r.status: r for r in conn.execute(
            select(RiskModelVersion.id, RiskModelVersion.status, RiskModelVersion.document)
            .where(RiskModelVersion.status.in_([LIVE, SHADOW])))}
    live, shadow = rows.get(LIVE), rows.get(SHADOW)
    use_model(_model(live))  # the process's scorer (textline/safety/risk/scorer.py), with its lexicon
    return Models(version, live and live.id, shadow and shadow.id, _model(shadow))


def current() -> Models:
    """This process's models, reloaded when the Redis version moved (looked at every CHECK_EVERY s)."""
    if not _followed.due():
        return _state["models"]
    with _lock:
        if not _followed.due():
            return _state["models"]
        version = _followed.look()
        if not _followed.moved(version):  # the same, or Redis did not answer
            return _state["models"]
        try:
            _state["models"] = _load(version)
            _followed.seen = version
        except SQLAlchemyError as exc:  # SQL is down: keep scoring with what we have, look again soon
            log.warning("risk models not reloaded: %s", exc)
        return _state["models"]


def forget() -> None:
    """Look again at the next call (tests, and a process that just made a decision itself)."""
    with _lock:
        _followed.forget()


def shadow_scorer() -> tuple[int, RiskScorer] | None:
    """(model id, a scorer with the process's lexicon and the model in shadow), or None without one."""
    models = current()
    if models.shadow is None:
        return None
    lexicon = packaged_lexicon()
    cached = _state["shadow_scorer"]
    if cached is None or cached[0] != models.shadow_id or cached[1].lexicon is not lexicon:
        cached = _state["shadow_scorer"] = (models.shadow_id, RiskScorer(lexicon, models.shadow))
    return cached


def score(text: str | None) -> RiskAssessment:
    """Score an inbound text with the process's lexicon (an admin's edits included) and live model: the one
    place that brings both up to date before scoring."""
    lexicon_edits.refresh()
    current()
    return score_text(text)
