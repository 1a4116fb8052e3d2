"""The warning-sign categories, measured on examples the lexicon's author did not read.

tests/data/warning_signs/*.jsonl were written by a separate author (README there). The lexicon was
written from the `split: "dev"` lines only; these tests measure the `split: "check"` lines. The
thresholds below were fixed before the check lines were ever scored:
  - positives labelled high: at least half raise an immediate adult alert, per category;
  - every positive (high or review): at least 75 % are flagged (alert or review), per category;
  - hard negatives: at most one alerts per category and at most 5 % of all of them.
The numbers are printed (ids only, never texts) so a run shows how far above or below they are.

MEASURED BELOW THOSE THRESHOLDS when the categories were added (first measurement, lexicon + model;
before them the same lines gave 22/97 alerts, 105/136 flagged, 6/86 hard negatives alerting; after:
31/97, 109/136, 11/86). The categories in BELOW_TARGET miss the pre-set bar; they are marked as
expected failures, strictly, so the day one passes the test says so and the mark must come off.
The lexicon entries were written from the dev lines and generalise poorly: the work list is the
check ids printed here, to be improved from new dev examples (not from these lines)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from textline.safety.risk import LexiconError, load_lexicon

SIGNS = Path(__file__).resolve().parents[1] / "data" / "warning_signs"
FILES = sorted(SIGNS.glob("*.jsonl"))
ALERT_RECALL, FLAGGED_RECALL, NEGATIVES_ALERTED_PER_FILE, NEGATIVES_ALERTED_SHARE = 0.5, 0.75, 1, 0.05


POSITIVES_BELOW_TARGET = {"burden", "deadline", "es", "farewell", "giving_away", "lethality_question", "means",
                          "neglect", "no_reason_to_live", "sextortion", "sleep_withdrawal", "starving_fainting",
                          "weapon"}
NEGATIVES_BELOW_TARGET = {"abbreviation", "burden", "no_reason_to_live"}
BELOW = pytest.mark.xfail(strict=True, reason="measured below the pre-set threshold (see the module docstring)")


def _params(below: set) -> list:
    return [pytest.param(p, id=p.stem, marks=[BELOW] if p.stem in below else []) for p in FILES]


def _check_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [r for r in map(json.loads, filter(str.strip, f)) if r["split"] == "check"]


def test_every_category_has_check_examples():
    assert len(FILES) >= 14
    for path in FILES:
        rows = _check_rows(path)
        assert any(r["kind"] == "positive" for r in rows) and any(r["kind"] == "hard_negative" for r in rows), path


@pytest.mark.parametrize("path", _params(POSITIVES_BELOW_TARGET))
def test_positives_are_caught(scorer, path):
    rows = [r for r in _check_rows(path) if r["kind"] == "positive"]
    levels = {r["id"]: scorer.score(r["text"]).level for r in rows}
    high = [r["id"] for r in rows if r["label"] == "high"]
    alerted = [i for i in high if levels[i] == "high"]
    flagged = [r["id"] for r in rows if levels[r["id"]] in ("medium", "high")]
    print(f"\n{path.stem}: alert {len(alerted)}/{len(high)}, flagged {len(flagged)}/{len(rows)}; "
          f"not alerted: {sorted(set(high) - set(alerted))}, not flagged: {sorted({r['id'] for r in rows} - set(flagged))}")
    assert len(alerted) >= ALERT_RECALL * len(high), f"alert recall {len(alerted)}/{len(high)}"
    assert len(flagged) >= FLAGGED_RECALL * len(rows), f"flagged recall {len(flagged)}/{len(rows)}"


@pytest.mark.parametrize("path", _params(NEGATIVES_BELOW_TARGET))
def test_hard_negatives_do_not_page_an_adult(scorer, path):
    rows = [r for r in _check_rows(path) if r["kind"] == "hard_negative"]
    alerted = [r["id"] for r in rows if scorer.score(r["text"]).is_high]
    print(f"\n{path.stem}: hard negatives alerting {len(alerted)}/{len(rows)} {alerted}")
    assert len(alerted) <= NEGATIVES_ALERTED_PER_FILE, alerted


@BELOW
def test_hard_negatives_alerting_overall(scorer):
    rows = [r for path in FILES for r in _check_rows(path) if r["kind"] == "hard_negative"]
    alerted = [r["id"] for r in rows if scorer.score(r["text"]).is_high]
    print(f"\nall hard negatives alerting: {len(alerted)}/{len(rows)}")
    assert len(alerted) <= NEGATIVES_ALERTED_SHARE * len(rows), alerted


# ---- how the signs are read and shown -------------------------------------------------------------

def test_a_sign_is_the_reason_volunteers_read(scorer):
    assert 'said goodbye: "thank you for everything. goodbye"' in scorer.score("thank you for everything. goodbye").reasons
    assert 'has the means: "saving up my pills"' in scorer.score("saving up my pills").reasons


def test_goodbye_emoji_are_read_and_other_emoji_stay_spaces(scorer):
    a = scorer.score("\U0001f5a4\U0001f44b")
    assert a.is_high and a.reasons[0] == 'said goodbye: "\U0001f5a4\U0001f44b"'
    assert (a.matches[0].start, a.matches[0].end) == (0, 2)
    assert scorer.score("\U0001f44b hi is anyone there").level in ("none", "low")
    assert scorer.score("i want to kill myself \U0001f62d tonight").is_high


def test_a_bad_sign_is_named(tmp_path):
    f = tmp_path / "lex.yaml"
    f.write_text("thresholds: {low: 10, medium: 20, high: 30}\nentries:\n"
                 "  - {label: x, category: suicide_self_harm, weight: 5, phrases: [alpha], sign: 3}\n")
    with pytest.raises(LexiconError, match=r"entries\[0\] \('x'\): sign must be a non-empty string"):
        load_lexicon(f)
