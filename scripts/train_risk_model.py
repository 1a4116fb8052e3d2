"""Train Textline's risk model (textline/data/risk_model.json) and report cross-author validation.

    pip install -e '.[train]'                         # scikit-learn: training only, never in the web process
    python scripts/train_risk_model.py                # validate, pick the threshold, write the model
    python scripts/train_risk_model.py --extra ours.jsonl          # add your own labelled texts
    python scripts/train_risk_model.py --compare      # every variant: cross-author recall/precision + speed
    python scripts/train_risk_model.py --check        # retrain; exit 1 if the shipped file would change

WHAT IT DOES
  The model is a logistic regression (C=4, class_weight balanced) over TF-IDF features: word 1-2-grams
  and character 4-grams inside words (char_wb; variant "w12-c4", picked with --compare: the same
  held-out recall and average precision as char 3-5-grams, misspellings included, at about 60% of the
  cost), sublinear tf, each part L2-normalised. It is trained on
  every labelled file (tests/data/risk_dev.jsonl, risk_eval.jsonl, risk_holdout.jsonl, plus any --extra
  files) and shipped as JSON that textline/safety/risk/model.py scores in pure Python.

  Cross-author validation: each labelled file was written by a different author, so for each file the
  model is trained on the OTHER files only and tested on that one. The table shows precision/recall on
  the held-out file for the lexicon alone, the model alone (p >= threshold) and the combined scorer
  that runs in production (lexicon high, or model p >= threshold unless the text is too short or the
  lexicon read it as not-now: only negated/past/joking hits, or a figure of speech it set aside; see
  textline/safety/risk/), with FA, the share of texts labelled not-high-risk that were called high. The
  lexicon was tuned on risk_dev and risk_eval, so its numbers there are not blind; the model's are.

  Short texts: on a one- to three-word text ("STOP", "hey, rough day") a couple of n-grams make up
  the whole normalised vector and p swings to extremes, so the model alone may not raise a text of
  fewer than min_tokens word tokens (the lexicon still can). min_tokens is chosen with the threshold.

  The threshold and min_tokens are chosen from those held-out results, never from the training fit:
  the pair with the highest mean recall of the combined scorer over the held-out files such that each
  file keeps combined precision >= --min-precision (0.80); among equal recalls, the fewest false
  alarms, then the higher threshold, then the larger min_tokens. If nothing keeps that precision
  everywhere, the best mean F2 is used and a warning printed.
  Only files with at least 20 high-risk and 20 other texts vote on the threshold (smaller ones are
  reported, not voted: one text would swing them). Tried: thresholds 0.15, 0.16 ... 0.95 and
  min_tokens 1 ... 8. CAUTION: every labelled file is about half high-risk and its negatives are
  mostly hard negatives (idioms, negations, past events); ordinary texts ("can i tell you something",
  "my dad forgot my birthday again") are rare in them, so the false-alarm rate on ordinary traffic is
  NOT measured here (tests/unit/test_risk_model.py prints one on 50 ordinary texts).

  Output is deterministic (sorted keys, floats rounded to 9 decimals, fixed seed, no timestamps):
  training twice on the same files gives the same bytes, so a diff of risk_model.json shows what changed.

ADDING LABELLED EXAMPLES (for an admin)
  1. Write your texts in a JSON-lines file of your own, one object per line (UTF-8):
        {"id": "ours-001", "text": "my bro is on the bathroom floor and his lips look blue", "high_risk": true}
        {"id": "ours-002", "text": "this homework is killing me", "high_risk": false}
     "text" and "high_risk" (true = an adult must be pulled in at once) are required; "id",
     "categories" and "note" are optional. Label by what the text needs, not by which words it has.
     Add hard negatives too (jokes, idioms, past events), or the model learns that words are enough,
     and plenty of ORDINARY texts (a bad day, a breakup, "can i tell you something"): the shipped
     files have few, and the model raises many such texts to high (see the CAUTION above).
     Never paste real texters' messages with names, numbers or places: rewrite them.
  2. Retrain with it:   python scripts/train_risk_model.py --extra path/to/ours.jsonl
     Your file becomes one more cross-author fold: the table shows how well a model trained without
     your file does on it (if recall there is low, the shipped model did not know your texters' way
     of writing). The shipped model is then trained on everything, your file included.
  3. Check the table, run the tests (./scripts/test.sh tests/unit/test_risk.py tests/unit/test_risk_model.py)
     and deploy the new textline/data/risk_model.json with the code (the web process reads it at start).
  Use --threshold / --min-tokens to override the chosen values, --out to write elsewhere (a trial).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from bench.bench_risk import glued_messages  # noqa: E402
from textline.safety.risk.model import model_from_dict  # noqa: E402
try:
    from textline.safety.risk.training import (  # noqa: E402,F401  (the names the tests use are re-exported)
        DEFAULT_FILES, DEFAULT_OUT, DEFAULT_VARIANT, MIN_PRECISION, SEED, VARIANTS, DataError, average_precision,
        build, choose_settings, cross_author, dumps, export_model, lexicon_results, load_rows, report, train,
        with_typos,
    )
except ModuleNotFoundError as exc:
    if exc.name != "sklearn":
        raise
    sys.exit("scikit-learn is needed for training: pip install -e '.[train]'")


# ---- speed ----------------------------------------------------------------------------------------

def sample_messages(rows: list[dict], k: int = 200, length: int = 160) -> list[str]:
    """Deterministic ~160-character messages glued from labelled texts (all different)."""
    return glued_messages([r["text"] for r in rows], k, length, seed=SEED)


def time_model(model, messages: list[str], rounds: int = 5, cold: bool = False) -> float:
    """Best-of-rounds microseconds per message for model.probability(). cold: the per-word cache
    is emptied before every message (every word unseen: the worst case)."""
    prob, clear = model.probability, model.clear_cache
    for m in messages:
        prob(m)
    best = math.inf
    for _ in range(rounds):
        if cold:
            t = time.perf_counter()
            for m in messages:
                clear()
                prob(m)
        else:
            t = time.perf_counter()
            for m in messages:
                prob(m)
        best = min(best, (time.perf_counter() - t) / len(messages) * 1e6)
    return best


def compare(files) -> None:
    rows_by_file = {Path(f).name: load_rows(f) for f in files}
    all_rows = [r for rows in rows_by_file.values() for r in rows]
    lex = lexicon_results(rows_by_file)
    messages = sample_messages(all_rows)
    summary = []
    for name, variant in VARIANTS.items():
        oof = cross_author(variant, rows_by_file)
        typo = cross_author(variant, rows_by_file, with_typos())
        t, mt, _ = choose_settings(oof, lex)
        table = report(name, oof, lex, t, mt)
        exported = export_model(train(variant, all_rows), t, min_tokens=mt)
        model = model_from_dict(exported)
        files_only = list(oof)
        summary.append((name, t, mt, statistics.mean(table[f]["combined"][1] for f in files_only),
                        min(table[f]["combined"][0] for f in files_only),
                        statistics.mean(average_precision(oof[f]) for f in files_only),
                        statistics.mean(average_precision(typo[f]) for f in files_only),
                        model.n_features, len(dumps(exported).encode()), time_model(model, messages),
                        time_model(model, messages, cold=True), variant.note))
    print(f"\n{'variant':12} {'thr':>4} {'min':>3} {'comb R':>6} {'comb P':>6} {'AP':>5} {'AP typo':>7} "
          f"{'features':>8} {'KB':>4} {'us':>5} {'cold':>5}")
    for name, t, mt, r, p, ap, ap_typo, nf, size, us, us_cold, note in summary:
        print(f"{name:12} {t:4.2f} {mt:3d} {r:6.3f} {p:6.3f} {ap:5.3f} {ap_typo:7.3f} {nf:8d} {size / 1024:4.0f} "
              f"{us:5.1f} {us_cold:5.1f}  {note}")
    print("thr, min: the variant's own chosen threshold and min_tokens; comb R: mean over held-out files "
          "of the combined scorer's recall there; comb P: the lowest held-out precision there.\nAP: model alone, mean held-out average "
          "precision (threshold-free); AP typo: the same with misspelt held-out texts (with_typos).\n"
          "us: model alone per ~160-char message, per-word cache warm; cold: cache emptied before each "
          "message (every word unseen).")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra", action="append", default=[], metavar="JSONL",
                    help="your own labelled file (repeatable): one more fold, and training data")
    ap.add_argument("--files", nargs="+", metavar="JSONL", help="replace the default labelled files")
    ap.add_argument("--variant", default=DEFAULT_VARIANT, choices=sorted(VARIANTS))
    ap.add_argument("--threshold", type=float, help="use this threshold instead of choosing one")
    ap.add_argument("--min-tokens", type=int, help="use this min_tokens instead of choosing one")
    ap.add_argument("--min-precision", type=float, default=MIN_PRECISION)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--compare", action="store_true", help="cross-author results and speed of every variant")
    ap.add_argument("--check", action="store_true", help="exit 1 if the model file differs from a retrain")
    args = ap.parse_args(argv)
    files = [Path(f) for f in (args.files or DEFAULT_FILES)] + [Path(f) for f in args.extra]
    if args.threshold is not None and not 0 < args.threshold < 1:
        ap.error("--threshold must be between 0 and 1")
    if args.min_tokens is not None and not 1 <= args.min_tokens <= 50:
        ap.error("--min-tokens must be from 1 to 50")
    try:
        if args.compare:
            compare(files)
            return 0
        model = build(files, args.variant, args.threshold, args.min_precision, min_tokens=args.min_tokens)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = dumps(model) + "\n"
    print(f"\nvariant {args.variant}, threshold {model['threshold']:.2f}, min_tokens {model['min_tokens']} "
          f"({model['metadata']['threshold_chosen_by']})")
    n = sum(len(v["features"]) for v in model["vectorizers"])
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'DIFFERS from a retrain'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: {n} features, {len(text.encode()) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
