"""scripts/eval_risk.py counts checked by hand on a small set with both label formats."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from textline.safety.risk import RiskScorer, load_lexicon

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def evaluate():
    spec = importlib.util.spec_from_file_location("eval_risk", ROOT / "scripts" / "eval_risk.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# level with the lexicon alone, written next to each text (asserted first, so the counts below follow)
ROWS = [
    ({"id": "a", "text": "i have the pills in my hand and i want to kill myself tonight", "label": "high"}, "high"),
    ({"id": "b", "text": "i hate my life", "label": "high"}, "low"),                      # a miss
    ({"id": "c", "text": "i feel like such a burden to my friends", "label": "review"}, "medium"),
    ({"id": "d", "text": "my mom made tacos tonight", "label": "none"}, "none"),
    ({"id": "e", "text": "i want to kill myself", "high_risk": False}, "high"),          # false alarm, old format
    ({"id": "f", "text": "im gonna fail this test lol", "high_risk": False}, "none"),
]


def test_counts_match_a_hand_count(evaluate, tmp_path):
    scorer = RiskScorer(load_lexicon(), model=None)
    assert [scorer.score(r["text"]).level for r, _ in ROWS] == [level for _, level in ROWS]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r, _ in ROWS), encoding="utf-8")
    m = evaluate.measure(scorer, evaluate.read_rows(path, None))
    assert (m["n"], m["high"], m["review"], m["none"]) == (6, 2, 1, 3)
    assert m["alert_precision"] == 1 / 2 and m["alert_recall"] == 1 / 2     # a, e alert; a, b are high
    assert m["flagged_precision"] == 2 / 3 and m["flagged_recall"] == 2 / 3  # a, c, e flagged; a, b, c need it
    assert m["ordinary_alerting"] == 1 / 3 and m["ordinary_flagged"] == 1 / 3
    assert [i for i, _, _ in m["misses"]] == ["b"] and [i for i, _, _ in m["false_alarms"]] == ["e"]


def test_split_filter_and_bad_labels(evaluate, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"text": "x", "label": "none", "split": "dev"}) + "\n"
                    + json.dumps({"text": "y", "label": "none", "split": "check"}) + "\n", encoding="utf-8")
    assert [r["text"] for r in evaluate.read_rows(path, "check")] == ["y"]
    with pytest.raises(ValueError, match="unknown label 'maybe'"):
        evaluate.gold_label({"text": "z", "label": "maybe"})
