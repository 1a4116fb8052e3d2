"""Measure the live risk scorer on labelled texts, one JSONL file per set.

    .venv/bin/python scripts/eval_risk.py tests/data/risk_eval.jsonl tests/data/warning_signs/*.jsonl
    .venv/bin/python scripts/eval_risk.py --split check --lexicon-only tests/data/warning_signs/means.jsonl

Each line needs "text" and a gold label: "label" (high | review | none) or, in the older sets,
"high_risk" (true -> high, false -> none). Per set it prints
  alert    precision/recall of level high (an adult is paged) against gold high;
  flagged  precision/recall of level medium or high (alert or review) against gold high or review;
  ordinary the share of gold-none texts that alert and that are flagged (what carries over to real
           traffic, where most texts are ordinary).
Texts are never printed unless --show-misses is given (do not use it on a blind set).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from textline.safety.risk import RiskScorer, load_lexicon  # noqa: E402

FLAGGED = ("medium", "high")


def gold_label(row: dict) -> str:
    if "label" in row:
        if row["label"] not in ("high", "review", "none"):
            raise ValueError(f"unknown label {row['label']!r} in {row.get('id', row)}")
        return row["label"]
    return "high" if row["high_risk"] else "none"


def read_rows(path: Path, split: str | None) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def measure(scorer: RiskScorer, rows: list[dict]) -> dict:
    """Counts and rates for one set; `misses` and `false_alarms` list the rows' ids (or texts)."""
    n = {"high": 0, "review": 0, "none": 0}
    alert_tp = alert_fp = flag_tp = flag_fp = ordinary_alert = ordinary_flag = 0
    misses, false_alarms = [], []
    for row in rows:
        gold, level = gold_label(row), scorer.score(row["text"]).level
        n[gold] += 1
        alert, flagged = level == "high", level in FLAGGED
        alert_tp += alert and gold == "high"
        alert_fp += alert and gold != "high"
        flag_tp += flagged and gold != "none"
        flag_fp += flagged and gold == "none"
        ordinary_alert += alert and gold == "none"
        ordinary_flag += flagged and gold == "none"
        if gold == "high" and not alert:
            misses.append((row.get("id", ""), level, row["text"]))
        if gold == "none" and flagged:
            false_alarms.append((row.get("id", ""), level, row["text"]))
    return {
        "n": len(rows), "high": n["high"], "review": n["review"], "none": n["none"],
        "alert_precision": _ratio(alert_tp, alert_tp + alert_fp), "alert_recall": _ratio(alert_tp, n["high"]),
        "flagged_precision": _ratio(flag_tp, flag_tp + flag_fp),
        "flagged_recall": _ratio(flag_tp, n["high"] + n["review"]),
        "ordinary_alerting": _ratio(ordinary_alert, n["none"]), "ordinary_flagged": _ratio(ordinary_flag, n["none"]),
        "misses": misses, "false_alarms": false_alarms,
    }


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help="JSONL files, one set each")
    ap.add_argument("--split", help="only lines with this split (the warning-sign files: dev or check)")
    ap.add_argument("--lexicon-only", action="store_true", help="without the model")
    ap.add_argument("--show-misses", action="store_true", help="print missed and falsely flagged texts")
    args = ap.parse_args(argv)
    scorer = RiskScorer(load_lexicon(), model=None) if args.lexicon_only else RiskScorer(load_lexicon())
    print(f"{'set':34} {'n':>4} {'high':>4} {'rev':>4} {'none':>4} | {'alert P':>7} {'alert R':>7} | "
          f"{'flag P':>7} {'flag R':>7} | {'ord alert':>9} {'ord flag':>8}")
    for path in args.paths:
        m = measure(scorer, read_rows(path, args.split))
        print(f"{path.name[:34]:34} {m['n']:4} {m['high']:4} {m['review']:4} {m['none']:4} | "
              f"{_fmt(m['alert_precision']):>7} {_fmt(m['alert_recall']):>7} | {_fmt(m['flagged_precision']):>7} "
              f"{_fmt(m['flagged_recall']):>7} | {_fmt(m['ordinary_alerting']):>9} {_fmt(m['ordinary_flagged']):>8}")
        if args.show_misses:
            for what, items in (("missed (gold high, no alert)", m["misses"]),
                                ("flagged ordinary", m["false_alarms"])):
                for rid, level, text in items:
                    print(f"    {what}: {rid} [{level}] {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
