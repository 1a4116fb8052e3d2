"""Training the risk model with scikit-learn: cross-author validation, the threshold choice, and the
export to the JSON that textline/safety/risk/model.py scores in pure Python.

Used by scripts/train_risk_model.py (the command line, whose docstring explains the method) and by
`flask textline train-risk` (retraining on the line's own labels, textline/safety/risk/retraining.py).
scikit-learn is an optional dependency (pip install -e '.[train]'): nothing a web process or a worker
imports at start-up imports this module.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from textline.safety.risk import RiskScorer, lexicon_overrules_model, load_lexicon

ROOT = Path(__file__).resolve().parents[3]  # the checkout: the shipped labelled sets are in tests/data

DATA = ROOT / "tests" / "data"
DEFAULT_FILES = [DATA / "risk_dev.jsonl", DATA / "risk_eval.jsonl", DATA / "risk_holdout.jsonl"]
DEFAULT_OUT = ROOT / "textline" / "data" / "risk_model.json"
SEED = 0
TOKEN_RX = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token_pattern
DIGITS = 9
THRESHOLDS = [round(0.15 + 0.01 * i, 2) for i in range(81)]  # 0.15 .. 0.95
MIN_PRECISION = 0.80
MIN_TOKENS_TRIED = range(1, 9)  # the model alone may not raise a text of fewer word tokens
MIN_VOTE = 20  # a held-out file votes on the threshold only with this many positives and negatives


@dataclass(frozen=True)
class Variant:
    word: tuple[int, int] | None = (1, 2)
    char: tuple[int, int] | None = (3, 5)
    min_df: int = 1
    C: float = 4.0
    note: str = ""


VARIANTS = {
    "w12-c35": Variant(note="the lead's experiment"),
    "w12-c35-df2": Variant(min_df=2, note="only n-grams seen in 2+ texts"),
    "w12-c34": Variant(char=(3, 4)),
    "w12-c34-df2": Variant(char=(3, 4), min_df=2),
    "w12-c4": Variant(char=(4, 4), note="char 4-grams only"),
    "w12-c4-df2": Variant(char=(4, 4), min_df=2),
    "w12-c3": Variant(char=(3, 3), note="char 3-grams only"),
    "w12": Variant(char=None, note="words only"),
    "w12-df2": Variant(char=None, min_df=2),
}
DEFAULT_VARIANT = "w12-c4"


class DataError(ValueError):
    pass


# ---- data -----------------------------------------------------------------------------------------

def load_rows(path) -> list[dict]:
    """Labelled JSON lines; a clear error names the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{n}: invalid JSON: {exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise DataError(f'{path}:{n}: each line needs "text" (a non-empty string)')
        if not isinstance(row.get("high_risk"), bool):
            raise DataError(f'{path}:{n}: "high_risk" must be true or false, got {row.get("high_risk")!r}')
        rows.append({"id": str(row.get("id", f"{path.stem}:{n}")), "text": row["text"],
                     "high_risk": row["high_risk"]})
    if not rows:
        raise DataError(f"{path}: no labelled rows")
    return rows


def file_info(path, rows) -> dict:
    return {"file": Path(path).name, "rows": len(rows), "positives": sum(r["high_risk"] for r in rows),
            "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


# ---- training -------------------------------------------------------------------------------------

def build_pipeline(variant: Variant):
    parts = []
    if variant.word:
        parts.append(("word", TfidfVectorizer(analyzer="word", ngram_range=variant.word, sublinear_tf=True,
                                              min_df=variant.min_df, lowercase=True)))
    if variant.char:
        parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=variant.char, sublinear_tf=True,
                                              min_df=variant.min_df, lowercase=True)))
    return Pipeline([("features", FeatureUnion(parts)),
                     ("clf", LogisticRegression(C=variant.C, class_weight="balanced", max_iter=5000,
                                                random_state=SEED))])


def train(variant: Variant, rows: list[dict]):
    random.seed(SEED)
    pipe = build_pipeline(variant)
    pipe.fit([r["text"] for r in rows], [int(r["high_risk"]) for r in rows])
    return pipe


def _r(x) -> float:
    v = round(float(x), DIGITS)
    return 0.0 if v == 0 else v  # no "-0.0"


def export_model(pipe, threshold: float, metadata: dict | None = None, min_tokens: int = 1) -> dict:
    """The JSON document textline/safety/risk/model.py reads."""
    union, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
    coef, offset, vecs = clf.coef_[0], 0, []
    for name, vec in union.transformer_list:
        if vec.analyzer not in ("word", "char_wb") or vec.norm != "l2" or not vec.use_idf \
                or vec.strip_accents or vec.stop_words or vec.preprocessor or vec.tokenizer or vec.binary:
            raise ValueError(f"vectoriser {name!r}: settings the pure-Python scorer does not reproduce")
        vocab, idf = vec.vocabulary_, vec.idf_
        entry = {"name": name, "analyzer": vec.analyzer, "ngram_range": list(vec.ngram_range),
                 "lowercase": bool(vec.lowercase), "sublinear_tf": bool(vec.sublinear_tf), "norm": "l2",
                 "features": {g: [_r(idf[i]), _r(coef[offset + i])] for g, i in vocab.items()}}
        if vec.analyzer == "word":
            entry["token_pattern"] = vec.token_pattern
        vecs.append(entry)
        offset += len(vocab)
    return {"format": "textline-risk-model", "version": 1, "intercept": _r(clf.intercept_[0]),
            "threshold": float(threshold), "min_tokens": int(min_tokens), "vectorizers": vecs,
            "metadata": metadata or {}}


def dumps(obj, indent: int = 0) -> str:
    """Sorted, stable JSON: one feature per line so a diff of the model file is readable."""
    if isinstance(obj, dict) and obj:
        pad = "\n" + " " * (indent + 1)
        items = [json.dumps(k) + ": " + dumps(obj[k], indent + 1) for k in sorted(obj)]
        return "{" + pad + ("," + pad).join(items) + "\n" + " " * indent + "}"
    if isinstance(obj, list) and any(isinstance(x, (dict, list)) and x for x in obj):
        pad = "\n" + " " * (indent + 1)
        return "[" + pad + ("," + pad).join(dumps(x, indent + 1) for x in obj) + "\n" + " " * indent + "]"
    return json.dumps(obj, sort_keys=True, separators=(", ", ": "))


# ---- cross-author validation ----------------------------------------------------------------------

def lexicon_results(rows_by_file: dict) -> dict:
    """text -> (lexicon is_high, lexicon overrules the model, number of word tokens)."""
    scorer = RiskScorer(load_lexicon(), model=None)
    out = {}
    for rows in rows_by_file.values():
        for r in rows:
            if r["text"] not in out:
                a = scorer.score(r["text"])
                out[r["text"]] = (a.is_high, lexicon_overrules_model(a), len(TOKEN_RX.findall(r["text"].lower())))
    return out


def cross_author(variant: Variant, rows_by_file: dict, transform=None) -> dict:
    """file -> list of (label, p from a model trained on the other files, text). transform: applied
    to the held-out texts only (the typo test)."""
    out = {}
    for held in rows_by_file:
        train_rows = [r for f, rows in rows_by_file.items() if f != held for r in rows]
        pipe = train(variant, train_rows)
        texts = [r["text"] for r in rows_by_file[held]]
        probs = pipe.predict_proba([transform(t) for t in texts] if transform else texts)[:, 1]
        out[held] = [(r["high_risk"], float(p), r["text"]) for r, p in zip(rows_by_file[held], probs)]
    return out


def with_typos(seed: int = 1, rate: float = 0.25):
    """A deterministic misspeller: in about `rate` of the words of 4+ letters, drop, swap or
    double one inner letter ("suicide" -> "suicde", "bathroom" -> "bathrom")."""
    def apply(text: str) -> str:
        rng = random.Random(f"{seed}:{text}")
        out = []
        for w in text.split():
            if len(w) > 3 and rng.random() < rate:
                i, k = rng.randrange(1, len(w) - 1), rng.random()
                w = w[:i] + w[i + 1:] if k < 1 / 3 else w[:i] + w[i + 1] + w[i] + w[i + 2:] if k < 2 / 3 \
                    else w[:i] + w[i] + w[i:]
            out.append(w)
        return " ".join(out)
    return apply


def average_precision(items) -> float:
    """Model alone, threshold-free: mean precision at each positive, ranked by p (ties: worst case)."""
    ranked = sorted(items, key=lambda x: (-x[1], x[0]))
    tp = total = 0.0
    for k, (y, _, _) in enumerate(ranked, 1):
        if y:
            tp += 1
            total += tp / k
    return total / tp if tp else 0.0


def _pr(pairs) -> tuple[float, float, float]:
    """(precision, recall, false-alarm rate = share of the not-high-risk texts called high)."""
    tp = sum(1 for y, yhat in pairs if y and yhat)
    fp = sum(1 for y, yhat in pairs if yhat and not y)
    fn = sum(1 for y, yhat in pairs if y and not yhat)
    negatives = sum(1 for y, _ in pairs if not y)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0), \
        (fp / negatives if negatives else 0.0)


def combined(lex, p: float, threshold: float, min_tokens: int = 1) -> bool:
    """The production rule of textline/safety/risk/: lexicon high, or the model where it may raise."""
    high, overruled, tokens = lex
    return high or (p >= threshold and not overruled and tokens >= min_tokens)


def scores_at(oof: dict, lex: dict, threshold: float, min_tokens: int = 1) -> dict:
    """file -> {lexicon: (P, R, FA), model: (P, R, FA), combined: (P, R, FA)}; plus "pooled"."""
    out, pooled = {}, {"lexicon": [], "model": [], "combined": []}
    for f, items in oof.items():
        kinds = {"lexicon": [(y, lex[t][0]) for y, p, t in items],
                 "model": [(y, p >= threshold) for y, p, t in items],
                 "combined": [(y, combined(lex[t], p, threshold, min_tokens)) for y, p, t in items]}
        out[f] = {k: _pr(v) for k, v in kinds.items()}
        for k, v in kinds.items():
            pooled[k] += v
    out["pooled"] = {k: _pr(v) for k, v in pooled.items()}
    return out


def _fbeta(p, r, beta=2.0):
    return (1 + beta ** 2) * p * r / (beta ** 2 * p + r) if p + r else 0.0


def choose_settings(oof: dict, lex: dict, min_precision: float = MIN_PRECISION,
                    threshold: float | None = None, min_tokens: int | None = None) -> tuple[float, int, str]:
    """(threshold, min_tokens, how): the pair with the highest mean held-out recall of the combined
    scorer keeping its precision >= min_precision on every voting file; ties go to the fewest false
    alarms (mean FA), then the higher threshold, then the larger min_tokens. A given value is kept."""
    # a handful of an admin's examples is reported, but one text more or less must not move the choice
    files = [f for f, items in oof.items()
             if sum(y for y, _, _ in items) >= MIN_VOTE and sum(not y for y, _, _ in items) >= MIN_VOTE] or list(oof)
    best, fallback = None, None
    for mt in [min_tokens] if min_tokens else MIN_TOKENS_TRIED:
        for t in [threshold] if threshold else THRESHOLDS:
            s = scores_at(oof, lex, t, mt)
            recall = statistics.mean(s[f]["combined"][1] for f in files)
            fa = statistics.mean(s[f]["combined"][2] for f in files)
            key = (round(recall, 9), -round(fa, 9), t, mt)
            if all(s[f]["combined"][0] >= min_precision for f in files) and (best is None or key > best):
                best = key
            f2 = (round(statistics.mean(_fbeta(*s[f]["combined"][:2]) for f in files), 9), t, mt)
            if fallback is None or f2 > fallback:
                fallback = f2
    if best is not None:
        return best[2], best[3], (f"highest mean held-out recall of the combined scorer with precision >= "
                                  f"{min_precision:.2f} on every held-out file; ties: fewest false alarms")
    return fallback[1], fallback[2], (f"WARNING: nothing keeps combined precision >= {min_precision:.2f} on "
                                      f"every held-out file; best mean F2 instead")


def report(name: str, oof: dict, lex: dict, threshold: float, min_tokens: int = 1, out=sys.stdout) -> dict:
    s = scores_at(oof, lex, threshold, min_tokens)
    print(f"\ncross-author validation, variant {name}, threshold {threshold:.2f}, min_tokens {min_tokens} "
          f"(trained on the other files, tested on this one)", file=out)
    print(f"{'':28}| {'lexicon alone':^17} | {'model alone':^17} | {'combined':^17}", file=out)
    print(f"{'held-out file':17} {'n':>4} {'pos':>4} |" + f" {'P':>5} {'R':>5} {'FA':>5} |" * 3, file=out)
    for f in list(oof) + ["pooled"]:
        n = sum(len(v) for v in oof.values()) if f == "pooled" else len(oof[f])
        pos = sum(y for v in (oof.values() if f == "pooled" else [oof[f]]) for y, _, _ in v)
        cells = "".join(f" {s[f][k][0]:5.3f} {s[f][k][1]:5.3f} {s[f][k][2]:5.3f} |"
                        for k in ("lexicon", "model", "combined"))
        print(f"{f[:17]:17} {n:4d} {pos:4d} |{cells}", file=out)
    print("P precision, R recall, FA false alarms: share of the texts NOT labelled high risk that were "
          "called high. The lexicon was tuned on risk_dev and risk_eval: its numbers there are not blind.",
          file=out)
    return {f: {k: [round(x, 3) for x in v] for k, v in row.items()} for f, row in s.items()}


# ---- the model -----------------------------------------------------------------------------------------

def build(files, variant_name: str, threshold: float | None = None, min_precision: float = MIN_PRECISION,
          quiet: bool = False, validate: bool = True, min_tokens: int | None = None) -> dict:
    """Cross-author validation (unless validate=False), threshold choice, final model on all files."""
    rows_by_file = {Path(f).name: load_rows(f) for f in files}
    if len(rows_by_file) != len(files):
        raise DataError("two labelled files have the same name; rename one")
    info = [file_info(f, rows_by_file[Path(f).name]) for f in files]
    return build_from_rows(rows_by_file, variant_name, info, threshold, min_precision, quiet, validate, min_tokens)


def build_from_rows(rows_by_file: dict, variant_name: str, trained_on: list[dict], threshold: float | None = None,
                    min_precision: float = MIN_PRECISION, quiet: bool = False, validate: bool = True,
                    min_tokens: int | None = None) -> dict:
    """build() on labelled rows already read, one list per author (each a cross-author fold)."""
    variant = VARIANTS[variant_name]
    _warn_duplicates(rows_by_file, quiet)
    all_rows = [r for rows in rows_by_file.values() for r in rows]
    meta = {"variant": variant_name,
            "params": {"word_ngram_range": variant.word, "char_wb_ngram_range": variant.char,
                       "min_df": variant.min_df, "C": variant.C, "class_weight": "balanced",
                       "sublinear_tf": True, "seed": SEED},
            "trained_on": trained_on,
            "sklearn_version": sklearn.__version__}
    chosen_by = "given with --threshold and --min-tokens"
    if validate and len(rows_by_file) >= 2:
        lex = lexicon_results(rows_by_file)
        oof = cross_author(variant, rows_by_file)
        if threshold is None or min_tokens is None:
            threshold, min_tokens, chosen_by = choose_settings(oof, lex, min_precision, threshold, min_tokens)
        table = report(variant_name, oof, lex, threshold, min_tokens,
                       out=open(os.devnull, "w") if quiet else sys.stdout)
        meta["cross_author"] = table
    elif threshold is None or min_tokens is None:
        raise DataError("need at least two labelled files to choose the threshold (or pass --threshold "
                        "and --min-tokens)")
    meta["threshold_chosen_by"] = chosen_by
    pipe = train(variant, all_rows)
    return export_model(pipe, threshold, meta, min_tokens)


def _warn_duplicates(rows_by_file: dict, quiet: bool) -> None:
    seen: dict[str, str] = {}
    for f, rows in rows_by_file.items():
        for r in rows:
            key = " ".join(r["text"].lower().split())
            if key in seen and seen[key] != f and not quiet:
                print(f"note: the same text is in {seen[key]} and {f}: {r['text'][:60]!r}", file=sys.stderr)
            seen.setdefault(key, f)
