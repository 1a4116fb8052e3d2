"""`flask textline train-risk`: a candidate risk model trained on the line's own labels plus the shipped
labelled sets, evaluated beside the live model, stored as a candidate (never live by itself).

Data:
- the shipped sets (tests/data/risk_dev, risk_eval, risk_holdout: one author each) and the line's own
  labels: every message an adult marked "needed an adult now" (high risk) or "false alarm" (not), whose
  words are still kept. Conversation-level labels and wrap-up assessments name no single text, so they
  are not training rows (the Triage page measures them).
- A frozen test split: a text is in it when the SHA-256 of its id falls in one fifth of the range, so the
  split never moves as labels are added; those texts are never trained on, from any source.
- The blind sets (tests/data/risk_blind*.jsonl) are never trained on: they are only evaluated.
Each source is one cross-author fold for the threshold choice (textline/safety/risk/training.py); the
line's labels vote only once they have 20 texts each way.

Evaluation, for the live scorer and the candidate on each set: alert recall (level high, which pages an
adult; the model alone never raises a text to high, so only the lexicon moves it), flagged recall (high
or review) and the share of ordinary texts flagged and alerted. Training runs here, on the line's own
machine: no text leaves it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from textline.accounts import audit
from textline.extensions import db
from textline.models import CANDIDATE, NEEDED, Conversation, Message, RiskLabel, RiskModelVersion, User
from textline.riskmodels import live
from textline.safety.risk import RiskScorer
from textline.safety.risk.model import model_from_dict
from textline.safety.risk.scorer import packaged_lexicon
from textline.safety.risk.training import DATA, DEFAULT_FILES, DEFAULT_VARIANT, build_from_rows, load_rows

BLIND_FILES = sorted(DATA.glob("risk_blind*.jsonl"))
TEST_FIFTH = 5  # one text in five is in the frozen test split
LINE = "line labels"
FLAGGED = ("medium", "high")


def in_test_split(row_id: str) -> bool:
    """Frozen: decided by the text's id alone."""
    return hashlib.sha256(row_id.encode()).digest()[0] % TEST_FIFTH == 0


def line_rows() -> list[dict]:
    """The line's message labels as training rows (words still kept, non-empty)."""
    rows = db.session.execute(
        select(Message.id, Message.body, RiskLabel.verdict)
        .join(RiskLabel, RiskLabel.message_id == Message.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.content_erased_at.is_(None), Message.body != "")
        .order_by(Message.id)).all()
    return [{"id": f"line:{mid}", "text": body, "high_risk": verdict == NEEDED} for mid, body, verdict in rows]


def evaluate(rows: list[dict], score) -> dict:
    """Alert and flagged recall on the texts needing an adult; alerted and flagged shares of the others.
    `score`: text -> RiskAssessment."""
    levels = [(r["high_risk"], score(r["text"]).level) for r in rows]
    high = [lv for h, lv in levels if h]
    ordinary = [lv for h, lv in levels if not h]

    def share(items, wanted):
        return round(sum(lv in wanted for lv in items) / len(items), 4) if items else None

    return {"texts": len(rows), "high": len(high), "alert_recall": share(high, ("high",)),
            "flag_recall": share(high, FLAGGED), "ordinary_alerted": share(ordinary, ("high",)),
            "ordinary_flagged": share(ordinary, FLAGGED)}


def _split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    train, test = [], []
    for r in rows:
        (test if in_test_split(r["id"]) else train).append(r)
    return train, test


def train_candidate(by: User | None = None, files=DEFAULT_FILES, blind=BLIND_FILES,
                    variant: str = DEFAULT_VARIANT) -> RiskModelVersion:
    """Train, evaluate beside the live model and store a candidate (audited)."""
    sources = {Path(f).name: load_rows(f) for f in files}
    line = line_rows()
    if line:
        sources[LINE] = line
    train_rows, test_rows = {}, []
    for name, rows in sources.items():
        train, test = _split(rows)
        if train:
            train_rows[name] = train
        test_rows += test
    trained_on = [{"source": name, "rows": len(rows), "positives": sum(r["high_risk"] for r in rows)}
                  for name, rows in train_rows.items()]
    document = build_from_rows(train_rows, variant, trained_on, quiet=True)
    candidate = RiskScorer(packaged_lexicon(), model_from_dict(document, "candidate")).score
    sets = {"frozen test split": test_rows, **{Path(f).name: load_rows(f) for f in blind}}
    evaluation = {name: {"live": evaluate(rows, live.score), "candidate": evaluate(rows, candidate)}
                  for name, rows in sets.items()}
    model = RiskModelVersion(status=CANDIDATE, document=document, created_by_id=getattr(by, "id", None),
                             trained_on={"sources": trained_on, "line_labels": len(line),
                                         "test_split": f"sha256(id) in one fifth: {len(test_rows)} texts",
                                         "live_was": live.current().live_id or "packaged"},
                             evaluation=evaluation)
    db.session.add(model)
    db.session.flush()
    audit.record("risk_model.train", by, "risk_model", model.id, commit=False, line_labels=len(line),
                 rows=sum(len(r) for r in train_rows.values()))
    db.session.commit()
    return model
