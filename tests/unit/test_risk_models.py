"""Retraining with a shadow period (issue 12, item 6): a candidate trained on the line's own labels and
the shipped sets, scored in shadow beside the live model without changing anything the line does, then
promoted, rolled back or discarded by an admin, audited, on SQLite and PostgreSQL. Real Redis and SQL;
inbound texts are signed webhooks to the in-process app, whose Celery runs the shadow task eagerly."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import text_live
from tests.support.web import signed_in_admin
from textline.extensions import db
from textline.models import (
    CANDIDATE, DISCARDED, FALSE_ALARM, INBOUND, LIVE, NEEDED, RETIRED, SHADOW, AuditEvent, Escalation, Message,
    RiskLabel, RiskModelVersion, ShadowScore,
)
from textline.redis_store import get_redis
from textline.riskmodels import decisions, live, shadow
from textline.riskmodels.comparison import compare
from textline.riskmodels.retraining import LINE, in_test_split, line_rows, train_candidate
from textline.safety.risk import score_text
from textline.safety.risk.model import DEFAULT_MODEL
from textline.safety.risk.scorer import use_model
from textline.texting.inbound import receive_inbound
from textline.safety.risk.training import DATA, DEFAULT_VARIANT, build_from_rows, load_rows

ORDINARY = "i got a b on my chemistry test today"
HIGH = "i have the pills in my hand and i want to kill myself tonight"


@pytest.fixture(autouse=True)
def packaged_again():
    """Every later test in this process scores with the packaged model (the PostgreSQL test has no reset)."""
    yield
    live.forget()
    use_model(None)


@pytest.fixture(scope="module")
def eager_document():
    """A model that raises nearly every text for review (threshold 0.01): the opposite of the packaged one,
    so any leak of the shadow into the live decisions shows."""
    return build_from_rows({"dev": load_rows(DATA / "risk_dev.jsonl")}, DEFAULT_VARIANT, [], threshold=0.01,
                           min_tokens=1, quiet=True, validate=False)


def stored(document, status=CANDIDATE) -> RiskModelVersion:
    model = RiskModelVersion(status=status, document=document, trained_on={"sources": []}, evaluation={})
    db.session.add(model)
    db.session.commit()
    return model


def actions(target_id=None) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.action.like("risk_model.%")).order_by(AuditEvent.id)
    if target_id is not None:
        query = query.where(AuditEvent.target_id == target_id)
    return db.session.scalars(query).all()


def test_the_test_split_is_frozen_by_id():
    ids = [f"row-{n}" for n in range(2000)]
    picked = [i for i in ids if in_test_split(i)]
    assert 0.15 < len(picked) / len(ids) < 0.25
    assert picked == [i for i in ids if in_test_split(i)]  # the same ids every time, whatever else is added


def test_a_model_in_shadow_scores_every_new_text_and_changes_nothing_the_line_does(live_app, app_ctx,
                                                                                   eager_document):
    model = stored(eager_document)
    decisions.shadow(model.id, None)
    conv = text_live(live_app, ORDINARY, "+15550103001")
    text_live(live_app, HIGH, "+15550103002")
    db.session.expire_all()
    scores = {s.message_id: s for s in db.session.scalars(select(ShadowScore))}
    messages = db.session.scalars(select(Message).where(Message.direction == INBOUND).order_by(Message.id)).all()
    assert sorted(scores) == [m.id for m in messages]  # every inbound text, once
    ordinary, high = messages
    assert scores[ordinary.id].level == "medium"  # the eager model would flag it...
    assert ordinary.risk["level"] == score_text(ORDINARY).level == "none"  # ...the live decision stands
    assert (conv.risk_level, conv.priority) == ("none", score_text(ORDINARY).score)
    assert scores[high.id].level == "high" and high.risk["level"] == "high"
    [esc] = db.session.scalars(select(Escalation)).all()  # the high text's alert only: none from the shadow
    assert esc.conversation_id == high.conversation_id
    assert shadow.record(ordinary.id) is False  # a redelivered task records nothing twice
    assert db.session.query(ShadowScore).count() == 2
    got = compare(model.id)
    assert (got["texts"], got["flagged"], got["disagree"]) == (2, {"live": 0.5, "shadow": 1.0}, 1)


def test_promotion_takes_effect_in_every_process_and_rollback_returns_to_any_earlier_model(live_app, app_ctx,
                                                                                           eager_document):
    admin = make_user(db.session, "ada@example.org", role="admin")
    eager = stored(eager_document)
    assert live.score(ORDINARY).level == "none"  # the packaged model
    version = get_redis().get(live.VERSION)
    decisions.promote(eager.id, admin)
    assert get_redis().get(live.VERSION) not in (None, version)  # what the other processes look at
    assert text_live(live_app, ORDINARY, "+15550103003").risk_level == "medium"  # the web process scores with it
    packaged_copy = stored(json.loads(DEFAULT_MODEL.read_text(encoding="utf-8")))
    decisions.promote(packaged_copy.id, admin)
    db.session.expire_all()
    assert (db.session.get(RiskModelVersion, eager.id).status, packaged_copy.status) == (RETIRED, LIVE)
    decisions.promote(eager.id, admin)  # rollback to an earlier model
    db.session.expire_all()
    assert db.session.get(RiskModelVersion, packaged_copy.id).status == RETIRED
    decisions.use_packaged(admin)  # back to where the line started
    assert live.current().live_id is None and live.score(ORDINARY).level == "none"
    with pytest.raises(decisions.DecisionError):
        decisions.use_packaged(admin)
    assert actions() == ["risk_model.promote"] * 3 + ["risk_model.use_packaged"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "risk_model.promote")).all()
    assert {e.actor_id for e in events} == {admin.id}


def test_a_live_model_cannot_be_discarded_and_a_discarded_one_can_come_back_in_shadow(app_ctx, eager_document):
    model = stored(eager_document, LIVE)
    with pytest.raises(decisions.DecisionError, match="cannot be discarded"):
        decisions.discard(model.id, None)
    other = stored(eager_document)
    decisions.discard(other.id, None)
    assert other.status == DISCARDED
    decisions.shadow(other.id, None)
    assert other.status == SHADOW
    with pytest.raises(decisions.DecisionError, match="no risk model"):
        decisions.promote(999999, None)


def test_the_admin_page_shows_the_models_and_decides(live_app, app_ctx, eager_document):
    model = stored(eager_document)
    browser = signed_in_admin(live_app.base_url, "/admin/risk-models")
    page = browser.get("/admin/risk-models").text
    assert f"Model {model.id} · candidate" in page and "Live: the packaged model" in page
    refused = browser.post(f"/admin/risk-models/{model.id}/promote")  # no CSRF token
    assert refused.status_code == 400
    done = browser.post(f"/admin/risk-models/{model.id}/shadow", data={"csrf_token": browser.token})
    assert done.status_code == 303
    page = browser.get("/admin/risk-models").text
    assert f"In shadow: model {model.id}" in page and "No text has come in since" in page
    text_live(live_app, ORDINARY, "+15550103004")
    assert 'data-testid="shadow-comparison"' in browser.get("/admin/risk-models").text
    browser.post(f"/admin/risk-models/{model.id}/promote", data={"csrf_token": browser.token})
    db.session.expire_all()
    assert db.session.get(RiskModelVersion, model.id).status == LIVE
    assert actions(model.id) == ["risk_model.shadow", "risk_model.promote"]


def test_train_risk_uses_the_line_s_labels_and_keeps_the_test_split_and_blind_sets_out(live_app, app_ctx):
    conv = text_live(live_app, "i wrote letters to everyone and gave my dog to my neighbour", "+15550103005")
    text_live(live_app, "lol my mom is gonna kill me for this grade", "+15550103005")
    first, second = db.session.scalars(select(Message).where(Message.direction == INBOUND)
                                       .order_by(Message.id)).all()
    db.session.add_all([RiskLabel(conversation_id=conv.id, message_id=first.id, verdict=NEEDED),
                        RiskLabel(conversation_id=conv.id, message_id=second.id, verdict=FALSE_ALARM),
                        RiskLabel(conversation_id=conv.id, message_id=None, verdict=NEEDED)])
    db.session.commit()
    assert line_rows() == [{"id": f"line:{first.id}", "text": first.body, "high_risk": True},
                           {"id": f"line:{second.id}", "text": second.body, "high_risk": False}]
    result = live_app.app.test_cli_runner().invoke(args=["textline", "train-risk", "--shadow"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    [model] = db.session.scalars(select(RiskModelVersion)).all()
    assert model.status == SHADOW and f"candidate risk model {model.id}" in result.output
    sources = {s["source"]: s["rows"] for s in model.trained_on["sources"]}
    shipped = {f: load_rows(DATA / f) for f in ("risk_dev.jsonl", "risk_eval.jsonl", "risk_holdout.jsonl")}
    for name, rows in shipped.items():
        assert sources[name] == sum(not in_test_split(r["id"]) for r in rows)
    assert sources.get(LINE, 0) + model.trained_on["line_labels"] >= 2
    assert not any(name.startswith("risk_blind") for name in sources)
    assert set(model.evaluation) == {"frozen test split", "risk_blind3.jsonl", "risk_blind4.jsonl",
                                     "risk_blind4_es.jsonl"}
    blind4 = model.evaluation["risk_blind4.jsonl"]
    assert blind4["live"]["texts"] == len(load_rows(DATA / "risk_blind4.jsonl"))
    assert 0 <= blind4["candidate"]["flag_recall"] <= 1
    assert actions(model.id) == ["risk_model.train", "risk_model.shadow"]


def test_erasing_a_conversation_s_words_keeps_its_labels_out_of_training(app_ctx, live_app):
    conv = text_live(live_app, "i gave away my guitar and my games, i wont need them", "+15550103006")
    [msg] = db.session.scalars(select(Message).where(Message.conversation_id == conv.id,
                                                     Message.direction == INBOUND)).all()
    db.session.add(RiskLabel(conversation_id=conv.id, message_id=msg.id, verdict=NEEDED))
    db.session.commit()
    assert len(line_rows()) == 1
    conv.content_erased_at = conv.opened_at
    db.session.commit()
    assert line_rows() == []


def test_decisions_and_shadow_scores_hold_on_postgresql(pg_app, eager_document):
    with pg_app.app_context():
        first, second = stored(eager_document), stored(eager_document)
        decisions.promote(first.id, None)
        decisions.promote(second.id, None)
        db.session.expire_all()
        assert [m.status for m in db.session.scalars(select(RiskModelVersion).order_by(RiskModelVersion.id))] \
            == [RETIRED, LIVE]
        decisions.shadow(first.id, None)
        text = receive_inbound("+15550103007", ORDINARY, "SM-pg-shadow").message
        assert (shadow.record(text.id), shadow.record(text.id)) == (True, False)
        [score] = db.session.scalars(select(ShadowScore)).all()
        assert (score.model_id, score.level) == (first.id, "medium")
        # Two models in shadow at once cannot be stored, whoever tries (the partial unique index).
        db.session.add(RiskModelVersion(status=SHADOW, document={}, trained_on={}, evaluation={}))
        with pytest.raises(Exception, match="uq_risk_models_shadow"):
            db.session.commit()
        db.session.rollback()
