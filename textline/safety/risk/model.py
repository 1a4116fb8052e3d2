"""Statistical second opinion for textline.safety.risk: a logistic regression over TF-IDF n-grams, run in
pure Python (standard library only: no numpy or scikit-learn in the web process).

The model is trained offline by scripts/train_risk_model.py (scikit-learn) and shipped as
data/risk_model.json: for each vectoriser its settings and, per n-gram, [idf, coefficient]; then the
intercept, the decision threshold chosen by cross-author validation, and training metadata.

Inference reproduces scikit-learn's FeatureUnion of TfidfVectorizers followed by
LogisticRegression.predict_proba exactly (to floating-point rounding):
  word     str.lower(); tokens = re.findall(token_pattern); n-grams joined by one space.
  char_wb  str.lower(); each whitespace-separated word padded with one space on both sides;
           character n-grams inside the padded word only (a padded word shorter than n counts once).
  tf       raw count, or 1 + ln(count) with sublinear_tf; n-grams not in the vocabulary are ignored.
  tf-idf   tf * idf, L2-normalised per vectoriser (over the in-vocabulary n-grams), then the
           vectorisers are concatenated.
  p        1 / (1 + exp(-(intercept + sum(coefficient * feature)))).
Because each vectoriser is normalised on its own, its share of the logit is
    sum_j(tf_j * idf_j * coef_j) / sqrt(sum_j (tf_j * idf_j)^2),
so only that dot product and that norm are computed, mostly in C (dict lookups through map/filter,
Counter, sum). Character n-grams never cross a word, so each distinct word's n-gram ids are worked
out once and kept in a bounded per-process cache (_CACHE_WORDS words).

Explanation: shares() splits the logit exactly over the words of the text (a character n-gram's
share goes to the word it sits in); explain() returns p and the word n-grams that raised it the
most, with offsets into the ORIGINAL text (for highlighting), leaving out function words.
"""
from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import mul
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "data" / "risk_model.json"
FORMAT = "textline-risk-model"
FORMAT_VERSION = 1
ANALYZERS = ("word", "char_wb")
_TOKENS = r"(?u)\b\w\w+\b"  # scikit-learn's default token_pattern

__all__ = ["DEFAULT_MODEL", "Evidence", "ModelError", "RiskModel", "load_model", "model_from_dict"]


class ModelError(ValueError):
    """The model file is unreadable or malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One word n-gram that raised the model's probability."""
    ngram: str          # a word n-gram (lowercased, tokens joined by one space) or a word of the text
                        # (lowercased, edge punctuation off) credited with its character n-grams
    weight: float       # its share of the logit (coefficient * normalised tf-idf), > 0
    spans: tuple[tuple[int, int], ...]  # every occurrence, as offsets into the original text


_CACHE_WORDS = 20_000
_ONE = 1


class _WordCache(dict):
    """word -> its char_wb n-gram ids; filled on first sight, emptied when it reaches _CACHE_WORDS
    words (so a flood of random words cannot grow it). Races between threads only recompute."""

    __slots__ = ("compute",)

    def __init__(self, compute):
        super().__init__()
        self.compute = compute

    def __missing__(self, word: str) -> tuple[int, ...]:
        if len(self) >= _CACHE_WORDS:
            self.clear()
        ids = self[word] = self.compute(word)
        return ids


class _Vectoriser:
    """One TfidfVectorizer: n-gram extraction plus the per-feature arrays (index 0 is unused so
    that a missing n-gram can be filtered out as 0)."""

    __slots__ = ("name", "analyzer", "min_n", "max_n", "lowercase", "token_rx", "sublinear",
                 "index", "idf", "coef", "idf2", "w", "names", "cache")

    def __init__(self, name, analyzer, min_n, max_n, lowercase, token_rx, sublinear, features):
        self.name, self.analyzer, self.min_n, self.max_n = name, analyzer, min_n, max_n
        self.lowercase, self.token_rx, self.sublinear = lowercase, token_rx, sublinear
        self.names = [""] + sorted(features)
        self.index = {g: i for i, g in enumerate(self.names) if i}
        self.idf = [0.0] + [float(features[g][0]) for g in self.names[1:]]
        self.coef = [0.0] + [float(features[g][1]) for g in self.names[1:]]
        self.idf2 = [x * x for x in self.idf]
        self.w = [i * c for i, c in zip(self.idf, self.coef)]
        self.cache = _WordCache(self.word_ids)

    # -- n-grams, exactly as scikit-learn builds them

    def ids(self, doc: str) -> list[int]:
        """Vocabulary ids of the document's n-grams, one per occurrence (unknown n-grams dropped)."""
        if self.analyzer == "word":
            return list(filter(None, map(self.index.get, self._word_ngrams(self.token_rx.findall(doc)),
                                         repeat(0))))
        # char_wb n-grams never cross a word, so each word's ids are worked out once and cached
        return list(chain.from_iterable(map(self.cache.__getitem__, doc.split())))

    def _word_ngrams(self, tokens: list[str]) -> list[str]:
        out = list(tokens) if self.min_n == 1 else []
        for n in range(max(2, self.min_n), min(self.max_n, len(tokens)) + 1):
            out += map(" ".join, zip(*(tokens[k:] for k in range(n))))
        return out

    def word_occurrences(self, doc: str) -> list[tuple[int, tuple[int, int]]]:
        """word analyzer: (feature id, span in doc) for each in-vocabulary n-gram occurrence."""
        toks = list(self.token_rx.finditer(doc))
        words = [m.group() for m in toks]
        starts = [m.start() for m in toks]
        ends = [m.end() for m in toks]
        get, out = self.index.get, []
        for n in range(self.min_n, min(self.max_n, len(words)) + 1):
            grams = words if n == 1 else map(" ".join, zip(*(words[k:] for k in range(n))))
            out += [(j, sp) for j, sp in zip(map(get, grams, repeat(0)), zip(starts, ends[n - 1:])) if j]
        return out

    def word_ids(self, word: str) -> tuple[int, ...]:
        """char_wb: the word padded with one space each side, its n-grams for each n; a padded word
        no longer than n is taken whole, once, and longer n are skipped (scikit-learn's rule)."""
        w = " " + word + " "
        size = len(w)
        grams = []
        for n in range(self.min_n, self.max_n + 1):
            if size <= n:
                grams.append(w)
                break
            grams += [w[i:i + n] for i in range(size - n + 1)]
        return tuple(filter(None, map(self.index.get, grams, repeat(0))))

    # -- scoring

    def normalised(self, counts: Counter) -> tuple[dict[int, float], float]:
        """For the counted feature ids: ({id: coef * tf-idf / norm / count}, norm), i.e. the share of
        the logit of ONE occurrence of each n-gram."""
        w, idf2 = self.w, self.idf2
        norm2 = sum(map(idf2.__getitem__, counts))
        repeats = list(compress(counts, map(_ONE.__lt__, counts.values())))
        tfs = {j: (1.0 + math.log(counts[j]) if self.sublinear else float(counts[j])) for j in repeats}
        for j, tf in tfs.items():
            norm2 += (tf * tf - 1.0) * idf2[j]
        if norm2 <= 0:
            return {}, 0.0
        norm = math.sqrt(norm2)
        per = dict(zip(counts, map(mul, map(w.__getitem__, counts), repeat(1.0 / norm))))
        for j, tf in tfs.items():
            per[j] = tf * w[j] / norm / counts[j]
        return per, norm

    def logit_share(self, doc: str) -> float:
        ids = self.ids(doc)
        if not ids:
            return 0.0
        w, idf2 = self.w, self.idf2
        counts = Counter(ids)  # counting, summing and picking repeats all run in C
        dot = sum(map(w.__getitem__, counts))       # as if every tf were 1 ...
        norm2 = sum(map(idf2.__getitem__, counts))
        if len(counts) != len(ids):                 # ... then fix the n-grams seen more than once
            log, sub = math.log, self.sublinear
            for j in compress(counts, map(_ONE.__lt__, counts.values())):
                tf = 1.0 + log(counts[j]) if sub else float(counts[j])
                dot += (tf - 1.0) * w[j]
                norm2 += (tf * tf - 1.0) * idf2[j]
        return dot / math.sqrt(norm2) if norm2 > 0 else 0.0


class RiskModel:
    """A loaded model. Thread-safe: nothing changes after loading. Build it with load_model()."""

    def __init__(self, data: dict, source: str = "<dict>"):
        _validate(data, source)
        self.source = source
        self.threshold = float(data["threshold"])
        self.min_tokens = int(data.get("min_tokens", 1))
        self.intercept = float(data["intercept"])
        self.metadata = data.get("metadata") or {}
        self.vectorisers = tuple(
            _Vectoriser(v["name"], v["analyzer"], v["ngram_range"][0], v["ngram_range"][1],
                        v["lowercase"], re.compile(v.get("token_pattern") or _TOKENS),
                        v["sublinear_tf"], v["features"])
            for v in data["vectorizers"])
        words = next((v for v in self.vectorisers if v.analyzer == "word"), None)
        self._token_rx = words.token_rx if words else re.compile(_TOKENS)

    def enough_text(self, text: str) -> bool:
        """At least min_tokens word tokens: on shorter texts one or two n-grams make up the whole
        L2-normalised vector and p swings to extremes ("STOP" alone), so the scorer does not let
        the model raise them on its own."""
        if self.min_tokens <= 1:
            return True
        return len(self._token_rx.findall(text.lower())) >= self.min_tokens

    def clear_cache(self) -> None:
        """Forget the per-word n-gram cache (for benchmarks of the cold path)."""
        for v in self.vectorisers:
            v.cache.clear()

    @property
    def n_features(self) -> int:
        return sum(len(v.index) for v in self.vectorisers)

    def _docs(self, text: str):
        low = text.lower() if any(v.lowercase for v in self.vectorisers) else text
        return [(v, low if v.lowercase else text) for v in self.vectorisers]

    def logit(self, text: str) -> float:
        if not isinstance(text, str):
            raise TypeError(f"the model needs a str, got {type(text).__name__}")
        z = self.intercept
        for v, doc in self._docs(text):
            z += v.logit_share(doc)
        return z

    def probability(self, text: str) -> float:
        """p(high risk) for one text, as LogisticRegression.predict_proba(...)[:, 1]."""
        return _sigmoid(self.logit(text))

    def shares(self, text: str) -> tuple[float, dict[str, tuple[float, tuple[tuple[int, int], ...]]]]:
        """The logit split exactly over the text: (logit, {n-gram: (share, spans)}), with
        intercept + sum of every share = logit. A word n-gram feature's share goes to its
        occurrences; a character n-gram's share to the words it occurs in (char_wb n-grams never
        cross a word), so "blue" is credited with " blu", "blue", "lue "; shares are summed per
        n-gram text ("blue" the word unigram plus the char n-grams of "blue"). Spans are offsets
        into the original text."""
        if not isinstance(text, str):
            raise TypeError(f"the model needs a str, got {type(text).__name__}")
        z = self.intercept
        weights: dict[str, float] = {}
        spans: dict[str, dict] = {}  # n-gram -> {span: None}, an ordered set
        for v, doc in self._docs(text):
            # places: (feature ids, span in doc, shown as): one per word n-gram occurrence, or one
            # per whitespace word holding all its character n-grams
            if v.analyzer == "word":
                names = v.names
                places = [((j,), sp, names[j]) for j, sp in v.word_occurrences(doc)]
            else:
                places, cache = [], v.cache
                for m in _WS_WORD_RX.finditer(doc):
                    ids = cache[m.group()]
                    if ids:
                        core = _ALNUM_EDGES_RX.search(m.group())  # "blue!!" is shown as "blue"
                        sp = (m.start() + core.start(), m.start() + core.end()) if core else m.span()
                        places.append((ids, sp, doc[sp[0]:sp[1]]))
            if not places:
                continue
            counts = Counter(chain.from_iterable(p[0] for p in places))
            per, norm = v.normalised(counts)  # feature id -> its share of the logit, per occurrence
            if norm <= 0:
                continue
            get = per.__getitem__
            back = _lower_map(text) if v.lowercase else None
            for ids, sp, key in places:
                share = get(ids[0]) if len(ids) == 1 else sum(map(get, ids))
                z += share
                weights[key] = weights.get(key, 0.0) + share
                spans.setdefault(key, {})[sp if back is None else _orig(back, sp)] = None
        return z, {k: (w, tuple(sorted(spans[k])) if len(spans[k]) > 1 else tuple(spans[k]))
                   for k, w in weights.items()}

    def explain(self, text: str, top: int = 4, min_share: float = 0.1) -> tuple[float, tuple[Evidence, ...]]:
        """p, and up to `top` word n-grams of the text that raised it the most (see shares()),
        strongest first, each adding at least `min_share` of the strongest one's share.
        N-grams made only of function words ("and", "me again") count in p but are not listed:
        they mean nothing to a volunteer reading the reason."""
        z, shares = self.shares(text)
        found = sorted(((w, k) for k, (w, _) in shares.items() if w > 0 and _shown(k)),
                       key=lambda x: (-x[0], x[1]))
        found = [f for f in found[:top] if f[0] >= min_share * found[0][0]] if found else []
        return _sigmoid(z), tuple(Evidence(k, w, shares[k][1]) for w, k in found)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# Shown to nobody as evidence (they still count in p): English and Spanish function words.
FUNCTION_WORDS = frozenset("""
a about after again all also am an and any are as at be because been but by can could did do does
doing dont even for from get got had has have he her here hers him his how i if im in into is it its
just like me more my no not now of off on or our out over rn so some than that the their them then
there they this to too u up ur us very was we were what when where which who why will with would ya
you your yall al con de del el en es la las le lo los me mi no para pero por que se si su te tu un
una y ya yo
""".split())


@functools.lru_cache(maxsize=8192)
def _shown(ngram: str) -> bool:
    return any(t not in FUNCTION_WORDS for t in ngram.split())


_WS_WORD_RX = re.compile(r"\S+")  # str.split()'s words, with offsets
_ALNUM_EDGES_RX = re.compile(r"[^\W_](?:.*[^\W_])?", re.S)  # a word less leading/trailing punctuation


def _orig(back: list[int] | None, span: tuple[int, int]) -> tuple[int, int]:
    return span if back is None else (back[span[0]], back[span[1] - 1] + 1)


def _lower_map(text: str) -> list[int] | None:
    """Offsets in text.lower() -> offsets in text, when lowercasing changed the length ("İ")."""
    low = text.lower()
    if len(low) == len(text):
        return None
    out = []
    for i, c in enumerate(text):
        out += [i] * len(c.lower())
    out.append(len(text))
    return out


# ---- loading --------------------------------------------------------------------------------------

def _fail(where: str, problem: str):
    raise ModelError(f"{where}: {problem}")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _validate(data, src: str) -> None:
    if not isinstance(data, dict):
        _fail(src, "top level must be a JSON object")
    if data.get("format") != FORMAT:
        _fail(src, f"not a Textline risk model (format must be {FORMAT!r}, got {data.get('format')!r})")
    if data.get("version") != FORMAT_VERSION:
        _fail(src, f"unsupported model version {data.get('version')!r}; this code reads version {FORMAT_VERSION}")
    for key in ("intercept", "threshold", "vectorizers"):
        if key not in data:
            _fail(src, f"missing {key!r}")
    if not _finite(data["intercept"]):
        _fail(src, f"intercept must be a finite number, got {data['intercept']!r}")
    if not _finite(data["threshold"]) or not 0 < data["threshold"] < 1:
        _fail(src, f"threshold must be a number between 0 and 1, got {data['threshold']!r}")
    mt = data.get("min_tokens", 1)
    if not isinstance(mt, int) or isinstance(mt, bool) or not 1 <= mt <= 50:
        _fail(src, f"min_tokens must be a whole number from 1 to 50, got {mt!r}")
    if "metadata" in data and not isinstance(data["metadata"], dict):
        _fail(src, "metadata must be an object")
    vecs = data["vectorizers"]
    if not isinstance(vecs, list) or not vecs:
        _fail(src, "vectorizers must be a non-empty list")
    for i, v in enumerate(vecs):
        where = f"{src}: vectorizers[{i}]"
        if not isinstance(v, dict):
            _fail(where, "must be an object")
        for key in ("name", "analyzer", "ngram_range", "lowercase", "sublinear_tf", "norm", "features"):
            if key not in v:
                _fail(where, f"missing {key!r}")
        if v["analyzer"] not in ANALYZERS:
            _fail(where, f"analyzer must be one of {ANALYZERS}, got {v['analyzer']!r}")
        rng = v["ngram_range"]
        if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(n, int) and not isinstance(n, bool)
                                                                for n in rng) and 1 <= rng[0] <= rng[1] <= 10):
            _fail(where, f"ngram_range must be [min, max] with 1 <= min <= max <= 10, got {rng!r}")
        for key in ("lowercase", "sublinear_tf"):
            if not isinstance(v[key], bool):
                _fail(where, f"{key} must be true or false, got {v[key]!r}")
        if v["norm"] != "l2":
            _fail(where, f"only norm 'l2' is supported, got {v['norm']!r}")
        pattern = v.get("token_pattern")
        if v["analyzer"] == "word":
            if not isinstance(pattern, str) or not pattern:
                _fail(where, "a word vectoriser needs a token_pattern")
            try:
                rx = re.compile(pattern)
            except re.error as exc:
                _fail(where, f"bad token_pattern {pattern!r}: {exc}")
            if rx.groups:
                _fail(where, f"token_pattern {pattern!r} must not have capturing groups")
        feats = v["features"]
        if not isinstance(feats, dict) or not feats:
            _fail(where, "features must be a non-empty object {ngram: [idf, coefficient]}")
        for g, pair in feats.items():
            if not g or not (isinstance(pair, list) and len(pair) == 2 and _finite(pair[0]) and _finite(pair[1])
                             and pair[0] > 0):
                _fail(where, f"feature {g!r}: must map to [idf > 0, coefficient], got {pair!r}")


def model_from_dict(data: dict, source: str = "<dict>") -> RiskModel:
    return RiskModel(data, source)


def load_model(path=None) -> RiskModel:
    """Load and validate a model file (default: the packaged one). Kept while the file is unchanged."""
    path = Path(path) if path else DEFAULT_MODEL
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model: {exc.strerror or exc}") from None
    return _load_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, _mtime: int, _size: int) -> RiskModel:
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not UTF-8 text: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: invalid JSON: {exc}") from None
    return RiskModel(data, path)
