"""Risk detection for inbound texts: explainable lexicon matching, plus a statistical second opinion.

Scoring rule (the numbers live in data/risk_lexicon.yaml, `scoring` and `thresholds`):
  1. Each lexicon hit has a weight 0..100. A negated hit ("not going to kill myself") keeps its
     category but is multiplied by `negated_factor`; a past/resolved one ("used to cut") by
     `resolved_factor`.
  2. Category score = its strongest hit + `same_category_bonus` per extra distinct hit (capped;
     serious categories only, danger words count through step 4).
     The message starts from the best category score.
  3. + `cooccur_bonus` for each other serious category that is also present (capped).
  4. + `danger_boost_per_kind` for each distinct immediate-danger kind (means, time, plan) seen
     next to a live suicide/abuse hit (capped).
  5. Clamped to 0..100. If every non-danger hit is negated/resolved/hyperbole the score is clamped
     to `review_cap`, so it lands in review, never high. Level comes from `thresholds`.
  Hyperbole: an entry marked `idiom: true` (phrases teens also use as a joke, "i want to die") is
  lowered like a negation when a `hyperbole.cues` regex (laughter, embarrassment, boredom) is near
  it, unless the message has a `hyperbole.serious` marker ("not joking", "i mean it").

Matching runs on a normalised copy of the text (lowercase, accents folded, leetspeak inside words,
apostrophes dropped, letters repeated 3+ times squeezed to one, punctuation/emoji turned into
spaces or clause breaks "."). Every step keeps the length except the drops, which are recorded, so
match offsets map back to the original text.

Model (textline/safety/risk_model.py, data/risk_model.json; trained by scripts/train_risk_model.py): a
logistic regression over word and character n-grams, for indirect disclosures no phrase list
catches ("his lips look blue", "wrote letters for my mom. just in case"). Combination rule:
  - the lexicon's assessment stands;
  - if the model's p >= its threshold, the text has at least the model's min_tokens words (shorter
    texts give p no meaning: "STOP" alone), and the lexicon has not positively read it as not-now
    (only negated/past/joking hits, or a figure of speech it set aside: lexicon_overrules_model()),
    the text is raised for REVIEW, never to high by the model alone: model score = medium +
    (p - threshold) / (1 - threshold) * (high - 1 - medium), so the threshold lands on
    thresholds.medium and p = 1 just under high; the model's reason and words are added only when its
    score is above the lexicon's (otherwise they would only clutter clearer reasons). (Why not high:
    on ordinary texts the model false-alarms far more than the lexicon (15 of 50 written ordinary
    worries crossed its threshold), and high pages an adult at once; so the model moves a texter up
    the queue and flags them to volunteers and advisors, and the lexicon alone decides escalation.) A
    reason 'reads like texts that needed an adult (model 0.83): "lips look blue"' is added, and
    matches of category "model" (label "model: <the words>", offsets into the original text) for
    the word n-grams that raised p the most. Categories stay lexicon-derived: the model names no category.
  - every assessment carries model_probability (None when the scorer has no model).
"""
from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from textline.safety.risk_model import ModelError, RiskModel, load_model

CATEGORIES = ("suicide_self_harm", "abuse_violence", "immediate_danger", "substance_emergency")
TITLES = {
    "suicide_self_harm": "suicide/self-harm",
    "abuse_violence": "abuse/violence",
    "immediate_danger": "immediate danger",
    "substance_emergency": "substance emergency",
}
LEVELS = ("none", "low", "medium", "high")
DANGER = "immediate_danger"
MODEL = "model"  # category of the matches that explain a model decision (not a risk category)
DEFAULT_LEXICON = Path(__file__).resolve().parents[1] / "data" / "risk_lexicon.yaml"

__all__ = ["CATEGORIES", "LexiconError", "Lexicon", "ModelError", "RiskAssessment", "RiskMatch", "RiskModel",
           "RiskScorer", "load_lexicon", "load_model", "lexicon_overrules_model", "score_text"]


class LexiconError(ValueError):
    """The lexicon file is unreadable or holds bad data; the message names file, entry and problem."""


# ---- results ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RiskMatch:
    category: str       # a lexicon category, or "model" for words the model weighed most
    label: str
    start: int          # offsets into the ORIGINAL text (Python str indices)
    end: int
    weight: int         # effective weight, after negation/past-tense lowering
    negated: bool
    resolved: bool = False  # past tense / "used to": lowered like a negation
    hyperbole: bool = False  # idiom next to laughter/embarrassment ("want to die lmao"): lowered too

    def to_dict(self) -> dict:
        return {"category": self.category, "label": self.label, "start": self.start, "end": self.end,
                "negated": self.negated}


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    score: int
    level: str
    categories: tuple[str, ...] = ()
    matches: tuple[RiskMatch, ...] = ()
    reasons: tuple[str, ...] = ()
    model_probability: float | None = None  # p(high risk) from the model; None without a model
    # lexicon hits set aside as figures of speech or for want of context: (category, label, why),
    # why = "exclusion" | "unless" | "requires". Not in to_dict(); read by lexicon_overrules_model().
    dismissed: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)

    @property
    def is_high(self) -> bool:
        return self.level == "high"

    def to_dict(self) -> dict:
        d = {"score": self.score, "level": self.level, "categories": list(self.categories),
             "reasons": list(self.reasons), "matches": [m.to_dict() for m in self.matches]}
        if self.model_probability is not None:
            d["model_probability"] = round(self.model_probability, 4)
        return d


VETO_DISMISSALS = ("exclusion", "unless")


def lexicon_overrules_model(a: RiskAssessment) -> bool:
    """True when the lexicon has positively read the text as not an emergency, which the model
    (blind to negation and figures of speech) may not overrule. Immediate-danger words aside:
      - it found risk phrases and every one is negated, in the past or a joke; or
      - it found none live, but set one aside as a figure of speech (an exclusion or an `unless`
        rule: "die my hair", "cut myself off from everyone")."""
    serious = [m for m in a.matches if m.category != DANGER and m.category != MODEL]
    if serious:
        return all(m.negated or m.resolved or m.hyperbole for m in serious)
    return any(cat != DANGER and why in VETO_DISMISSALS for cat, _, why in a.dismissed)


# ---- normalisation ------------------------------------------------------------------------------

_APOSTROPHES = "'`\u2019\u2018\u02bc\u00b4\u2032"
# Zero-width characters and combining accents are dropped like apostrophes ("su\u200bicide").
_DROPPED = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_BREAKS = ".!?;,:\n\r\u2026\u3002\uff01\uff1f"   # clause breaks: negation never reaches across them
_SQUEEZE_RX = re.compile(r"([a-z])\1\1+")           # letter runs of 3+ ("dieeee")


def _fold_char(c: str) -> str:
    """Exactly one character out for one in, so offsets survive this step."""
    if c in _APOSTROPHES or c in _DROPPED or unicodedata.combining(c):
        return "'"
    if c in _BREAKS:
        return "."
    if c.isascii():
        return c.lower() if c.isalnum() else " "
    base = unicodedata.normalize("NFKD", c)[:1]
    if base.isascii() and base.isalnum():  # accents, full-width and styled letters
        return base.lower()
    if c.isalnum():
        low = c.lower()
        return low if len(low) == 1 else c
    return " "  # emoji, symbols, other punctuation


class _FoldTable(dict):
    """str.translate table, filled lazily for the characters we actually see."""

    def __missing__(self, code: int) -> str:
        self[code] = out = _fold_char(chr(code))
        return out


_FOLD = _FoldTable()


class _Text:
    """A message and its normalised form. Only two steps drop characters (apostrophes, then
    squeezed letter runs); their drops are worked out lazily, when a hit needs real offsets."""

    __slots__ = ("text", "norm", "_folded", "_unquoted", "_drops")

    def __init__(self, text: str, folded: str, unquoted: str, norm: str):
        self.text, self._folded, self._unquoted, self.norm = text, folded, unquoted, norm
        self._drops = None

    def _drop_records(self) -> tuple[list, list, list]:
        # Where drops sit, as indexes into the shorter string (sorted): an apostrophe sits just
        # before quote_at[k]; a squeezed run lost run_lost[k] chars just before run_at[k].
        if self._drops is None:
            quote_at, q = [], self._folded.find("'")
            while q >= 0:
                quote_at.append(q - len(quote_at))
                q = self._folded.find("'", q + 1)
            run_at, run_lost, lost = [], [], 0
            if len(self.norm) != len(self._unquoted):
                for m in _SQUEEZE_RX.finditer(self._unquoted):
                    run_at.append(m.start() - lost + 1)
                    lost += len(m.group()) - 1
                    run_lost.append(lost)  # running total
            self._drops = (quote_at, run_at, run_lost)
        return self._drops

    def orig(self, i: int, end: bool = False) -> int:
        """Original offset for a norm offset. An end takes in a squeezed run ("dieeee") but
        not an apostrophe that follows the hit."""
        if self.norm is self._folded:  # nothing was dropped (the common case)
            return i
        quote_at, run_at, run_lost = self._drop_records()
        k = bisect.bisect_right(run_at, i)
        i += run_lost[k - 1] if k else 0
        return i + (bisect.bisect_left(quote_at, i) if end else bisect.bisect_right(quote_at, i))


_DOUBLES_RX = re.compile(r"([a-z])\1+")
_WORD_RX = re.compile(r"\S+")


def _key(s: str) -> str:
    """Lookup key shared by a phrase and any text it matched: single spaces, doubles squeezed."""
    return _DOUBLES_RX.sub(r"\1", " ".join(s.split()))


# ---- lexicon ------------------------------------------------------------------------------------

_TOP_KEYS = {"version", "thresholds", "scoring", "normalize", "negation", "resolved", "hyperbole",
             "exclusions", "entries"}
_ENTRY_KEYS = {"label", "category", "weight", "phrases", "patterns", "unless", "requires", "kind", "idiom"}
_CUE_KEYS = {"negation": {"before", "fillers", "after"}, "resolved": {"before", "after"},
             "hyperbole": {"cues", "serious"}}
_SCORING = {  # key -> (type, min, max)
    "same_category_bonus": (float, 0, 100), "same_category_bonus_max": (float, 0, 100),
    "cooccur_bonus": (float, 0, 100), "cooccur_bonus_max": (float, 0, 100),
    "cooccur_min_weight": (float, 0, 100), "cooccur_categories": (list, None, None),
    "danger_triggers": (list, None, None), "danger_boost_per_kind": (float, 0, 100),
    "danger_boost_max": (float, 0, 100), "negated_factor": (float, 0, 1),
    "resolved_factor": (float, 0, 1), "review_cap": (float, 0, 100), "context_window": (int, 0, 500),
}
_MAX_VARIANTS = 4096
_CHOICE_RX = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Entry:
    label: str
    category: str
    weight: float
    phrases: tuple[str, ...]
    patterns: tuple[str, ...]
    unless: tuple[str, ...]
    requires: tuple[str, ...]
    kind: str | None
    source: str
    unless_rx: re.Pattern | None = field(default=None, repr=False, compare=False)
    requires_rx: re.Pattern | None = field(default=None, repr=False, compare=False)
    idiom: bool = False  # also said as a joke: lowered next to a hyperbole cue


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A loaded, validated and compiled lexicon. Build it with load_lexicon()."""
    sources: tuple[str, ...]
    thresholds: dict
    scoring: dict
    entries: tuple[Entry, ...]
    leet: dict
    phrase_rx: re.Pattern | None = field(repr=False)
    phrase_index: dict = field(repr=False)         # matched text or its _key() -> [Entry]
    prefixes: dict = field(repr=False)             # same keys -> [(n words, [Entry])] of shorter phrases
    pattern_rx: re.Pattern | None = field(repr=False)  # patterns whose opening text is not known
    patterns: tuple = field(repr=False)            # ((compiled, Entry), ...)
    exclusion_rx: re.Pattern | None = field(repr=False)
    cues: dict = field(repr=False)                 # name -> compiled regex or None
    pattern_lead_rx: re.Pattern | None = field(default=None, repr=False)  # openings of the other patterns
    pattern_leads: dict = field(default_factory=dict, repr=False)  # opening text -> ((compiled, Entry), ...)


def _fail(where: str, problem: str):
    raise LexiconError(f"{where}: {problem}")


def _compile(where: str, pattern, what: str = "pattern") -> re.Pattern:
    if not isinstance(pattern, str) or not pattern.strip():
        _fail(where, f"{what} must be a non-empty string, got {pattern!r}")
    try:
        rx = re.compile(pattern)
        re.compile(f"(?:{pattern})|x")  # must also work inside a combined alternation
    except re.error as exc:
        _fail(where, f"bad regex {pattern!r}: {exc}")
    if rx.groupindex or re.search(r"\\[1-9]|\(\?P=", pattern):
        _fail(where, f"bad regex {pattern!r}: named groups and backreferences are not supported")
    if rx.match(""):
        _fail(where, f"bad regex {pattern!r}: it matches empty text")
    return rx


def _str_list(where: str, value, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        _fail(where, f"{what} must be a list of non-empty strings, got {value!r}")
    for v in value:
        if not isinstance(v, str) or not v.strip():
            _fail(where, f"{what} must be a list of non-empty strings; bad item {v!r} (quote numbers)")
    return value


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: plain YAML silently keeps the last one, which
    would quietly drop half of an entry's phrases."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> dict:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise LexiconError(f"{path}: cannot read lexicon: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        _fail(str(path), "top level must be a mapping")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        _fail(str(path), f"unknown section(s) {sorted(unknown)}; expected some of {sorted(_TOP_KEYS)}")
    return data


def _check_entry(src: str, i: int, raw) -> Entry:
    where = f"{src}: entries[{i}]"
    if not isinstance(raw, dict):
        _fail(where, "each entry must be a mapping with label, category, weight and phrases/patterns")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        _fail(where, "missing label")
    where = f"{src}: entries[{i}] ({label!r})"
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        _fail(where, f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
    category = raw.get("category")
    if category not in CATEGORIES:
        _fail(where, f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    if "weight" not in raw or raw["weight"] is None:
        _fail(where, "missing weight")
    weight = raw["weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 100:
        _fail(where, f"weight must be a number from 0 to 100, got {weight!r}")
    phrases = _str_list(where, raw.get("phrases"), "phrases")
    patterns = _str_list(where, raw.get("patterns"), "patterns")
    if not phrases and not patterns:
        _fail(where, "needs at least one phrase or pattern")
    for p in patterns:
        _compile(where, p)
    context = {}
    for name in ("unless", "requires"):
        context[name] = _str_list(where, raw.get(name), name)
        for p in context[name]:
            _compile(where, p, f"{name} pattern")
    kind = raw.get("kind")
    if kind is not None and (not isinstance(kind, str) or not kind.strip()):
        _fail(where, "kind must be a non-empty string")
    idiom = raw.get("idiom", False)
    if not isinstance(idiom, bool):
        _fail(where, f"idiom must be true or false, got {idiom!r}")
    unless, requires = context["unless"], context["requires"]
    return Entry(label.strip(), category, weight, tuple(phrases), tuple(patterns), tuple(unless),
                 tuple(requires), kind, src,
                 re.compile(_alt(unless)) if unless else None,
                 re.compile(_alt(requires)) if requires else None, idiom)


def _merge(merged: dict, data: dict, src: str) -> None:
    """Fold one file into the merged config. Lists append; an entry with the same category and
    label as an earlier one replaces it (so an admin can re-weight or add `unless`)."""
    for section in ("thresholds", "scoring"):
        value = data.get(section)
        if value is not None and not isinstance(value, dict):
            _fail(f"{src}: {section}", "must be a mapping")
        for key, v in (value or {}).items():
            merged[section][key] = (v, src)
    norm = data.get("normalize") or {}
    if not isinstance(norm, dict) or set(norm) - {"leet", "synonyms"}:
        _fail(f"{src}: normalize", "must be a mapping with `leet` and/or `synonyms`")
    leet = norm.get("leet") or {}
    if not isinstance(leet, dict):
        _fail(f"{src}: normalize.leet", "must map single characters to single letters")
    for k, v in leet.items():
        if not (isinstance(k, str) and isinstance(v, str) and len(k) == 1 and len(v) == 1
                and k.isascii() and v.isascii() and v.isalpha()):
            _fail(f"{src}: normalize.leet", f"bad mapping {k!r}: {v!r}; use one character to one letter")
        merged["leet"][k] = v.lower()
    groups = norm.get("synonyms") or []
    if not isinstance(groups, list):
        _fail(f"{src}: normalize.synonyms", "must be a list of groups (lists of equivalent words)")
    for n, group in enumerate(groups):
        merged["synonyms"].append(_str_list(f"{src}: normalize.synonyms[{n}]", group, "a synonym group"))
    for section, keys in _CUE_KEYS.items():
        value = data.get(section) or {}
        if not isinstance(value, dict) or set(value) - keys:
            _fail(f"{src}: {section}", f"must be a mapping with some of {sorted(keys)}")
        for key in keys:
            for p in _str_list(f"{src}: {section}.{key}", value.get(key), "cues"):
                _compile(f"{src}: {section}.{key}", p, "cue")
                merged[section][key].append(p)
    exclusions = data.get("exclusions") or []
    if not isinstance(exclusions, list):
        _fail(f"{src}: exclusions", "must be a list of {label, pattern}")
    for i, ex in enumerate(exclusions):
        where = f"{src}: exclusions[{i}]"
        if not isinstance(ex, dict) or set(ex) != {"label", "pattern"} or not isinstance(ex["label"], str):
            _fail(where, "each exclusion needs exactly a text `label` and a `pattern`")
        merged["exclusions"].append((ex["label"], _compile(where, ex["pattern"]).pattern))
    entries = data.get("entries") or []
    if not isinstance(entries, list):
        _fail(f"{src}: entries", "must be a list")
    for i, raw in enumerate(entries):
        entry = _check_entry(src, i, raw)
        merged["entries"][(entry.category, entry.label.lower())] = entry


def _check_settings(merged: dict, sources: str) -> tuple[dict, dict]:
    th = {}
    for name in ("low", "medium", "high"):
        if name not in merged["thresholds"]:
            _fail(f"{sources}: thresholds", f"missing {name!r}")
        v, src = merged["thresholds"][name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 100:
            _fail(f"{src}: thresholds.{name}", f"must be a number from 1 to 100, got {v!r}")
        th[name] = v
    unknown = set(merged["thresholds"]) - set(th)
    if unknown:
        _fail(f"{sources}: thresholds", f"unknown key(s) {sorted(unknown)}")
    if not th["low"] < th["medium"] < th["high"]:
        _fail(f"{sources}: thresholds", f"need low < medium < high, got {th}")
    sc = {}
    for key, (kind, lo, hi) in _SCORING.items():
        if key not in merged["scoring"]:
            _fail(f"{sources}: scoring", f"missing {key!r}")
        v, src = merged["scoring"][key]
        where = f"{src}: scoring.{key}"
        if kind is list:
            bad = [c for c in (v if isinstance(v, list) else [None]) if c not in CATEGORIES]
            if bad:
                _fail(where, f"must be a list of categories from {CATEGORIES}, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi \
                or (kind is int and not isinstance(v, int)):
            _fail(where, f"must be a number from {lo} to {hi}, got {v!r}")
        sc[key] = v
    unknown = set(merged["scoring"]) - set(_SCORING)
    if unknown:
        _fail(f"{sources}: scoring", f"unknown key(s) {sorted(unknown)}")
    if sc["review_cap"] >= th["high"]:
        _fail(f"{sources}: scoring.review_cap", "must be below thresholds.high")
    return th, sc


def _synonym_map(groups: list[list[str]], norm) -> dict[tuple, frozenset]:
    """Word sequence -> every equivalent spelling. Groups sharing a form are merged."""
    forms: dict[tuple, frozenset] = {}
    for group in groups:
        merged = {tuple(norm(g).split()) for g in group} - {()}
        for form in list(merged):
            merged |= forms.get(form, frozenset())
        merged = frozenset(merged)
        for form in merged:
            forms[form] = merged
    return forms


def _choices(where: str, phrase: str) -> list[str]:
    """Expand "{he|she} {hits|hit} me" into every combination; "{always |}" makes a word optional."""
    parts = _CHOICE_RX.split(phrase)  # literal, choice, literal, choice, ...
    if any("{" in p or "}" in p for p in parts[::2]):
        _fail(where, f"phrase {phrase!r} has unbalanced {{ }}")
    options = [[p] if n % 2 == 0 else p.split("|") for n, p in enumerate(parts)]
    count = 1
    for o in options:
        count *= len(o)
    if count > _MAX_VARIANTS:
        _fail(where, f"phrase {phrase!r} expands to {count} spellings (limit {_MAX_VARIANTS}); split it")
    return ["".join(combo) for combo in itertools.product(*options)]


def _variants(words: list[str], synonyms: dict, longest: int) -> list[tuple[str, ...]]:
    """All spellings of a phrase after synonym substitution (longest synonym first)."""
    parts, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            alts = synonyms.get(tuple(words[i:i + n]))
            if alts:
                parts.append(sorted(alts))
                i += n
                break
        else:
            parts.append([(words[i],)])
            i += 1
    out = []
    for combo in itertools.islice(itertools.product(*parts), _MAX_VARIANTS + 1):
        out.append(tuple(w for form in combo for w in form))
    return out


def _symbols(words: tuple[str, ...]) -> list[str]:
    """Regex pieces for one phrase spelling. A double letter also matches a single one
    ("kill" ~ "kil"); the last letter of a longer word may repeat ("diee"). ASCII letters only,
    matching _key() and the squeezing of the text."""
    syms = []
    for n, word in enumerate(words):
        if n:
            syms.append(" +")
        i = 0
        while i < len(word):
            c = word[i]
            letter = "a" <= c <= "z"
            if letter and len(word) >= 3 and word[i:].strip(c) == "":
                syms.append(re.escape(c) + "+")
                break
            if letter and word[i + 1:i + 2] == c:
                syms.append(re.escape(c) * 2 + "?")
                i += 2
            else:
                syms.append(re.escape(c))
                i += 1
    return syms


def _trie_regex(seqs) -> str:
    """One alternation shaped as a trie, so Python's re rejects a position after one character."""
    root: dict = {}
    for seq in seqs:
        node = root
        for sym in seq:
            node = node.setdefault(sym, {})
        node[""] = {}  # end of a phrase; "" is never a symbol

    def regex(node: dict) -> str:
        branches = [sym + regex(child) for sym, child in sorted(node.items()) if sym]
        if not branches:
            return ""
        if "" in node:
            return "(?:" + "|".join(branches) + ")?"  # greedy: the longest phrase wins
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return regex(root)


def load_lexicon(path=None, extra_paths=()) -> Lexicon:
    """Load the packaged lexicon (or `path`), merge admin extension files, validate, compile.
    Compiling takes a second or two, so the result is kept while the files are unchanged."""
    files = [Path(path) if path else DEFAULT_LEXICON] + [Path(p) for p in (extra_paths or ())]
    try:
        stamp = tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        return _load_lexicon(files)  # reports the unreadable file
    return _load_lexicon_cached(stamp, tuple(files))


@functools.lru_cache(maxsize=8)
def _load_lexicon_cached(stamp: tuple, files: tuple) -> Lexicon:
    return _load_lexicon(list(files))


def _load_lexicon(files: list) -> Lexicon:
    merged = {"thresholds": {}, "scoring": {}, "leet": {}, "synonyms": [], "exclusions": [],
              "entries": {}, **{section: {k: [] for k in keys} for section, keys in _CUE_KEYS.items()}}
    for f in files:
        _merge(merged, _read(f), str(f))
    sources = ", ".join(map(str, files))
    thresholds, scoring = _check_settings(merged, sources)
    entries = tuple(merged["entries"].values())
    if not entries:
        _fail(sources, "the lexicon has no entries")

    leet = merged["leet"]
    leet_rx = _leet_regex(leet)

    def norm(s: str) -> str:
        return " ".join(_normalise(s, leet, leet_rx).norm.replace(".", " ").split())

    synonyms = _synonym_map(merged["synonyms"], norm)
    longest = max((len(k) for k in synonyms), default=1)
    index: dict[str, list[Entry]] = {}
    seqs = []
    for entry in entries:
        where = f"{entry.source}: entry {entry.label!r}"
        for phrase in entry.phrases:
            spellings = []
            for choice in _choices(where, phrase):
                words = norm(choice).split()
                if not words:
                    _fail(where, f"phrase {phrase!r} is empty after normalising")
                spellings += _variants(words, synonyms, longest)
            if len(spellings) > _MAX_VARIANTS:
                _fail(where, f"phrase {phrase!r} expands to over {_MAX_VARIANTS} spellings; split it")
            for spelling in spellings:
                seqs.append(_symbols(spelling))
                text = " ".join(spelling)
                bucket = index.setdefault(_key(text), [])
                if entry not in bucket:
                    bucket.append(entry)
                index.setdefault(text, bucket)  # exact spelling: most hits skip computing _key()
    prefixes = {}
    for text in index:
        words, shorter = text.split(" "), []
        for n in range(1, len(words)):
            prefix = " ".join(words[:n])
            bucket = index.get(prefix) or index.get(_key(prefix))
            if bucket:
                shorter.append((n, bucket))
        if shorter:
            prefixes[text] = shorter
    phrase_rx = re.compile(r"(?<!\w)(?:" + _trie_regex(seqs) + r")(?!\w)") if seqs else None
    patterns = tuple((re.compile(p), e) for e in entries for p in e.patterns)
    # Entry patterns start at a word start. Most begin with known text ("took", "if i tell"):
    # one trie pass finds those openings and only their patterns are tried there. The rest are
    # found by one combined pass, as before.
    leads: dict[str, list] = {}
    others = []
    for rx, e in patterns:
        openings = _openings(rx.pattern)
        if openings is None:
            others.append((rx, e))
        for o in openings or ():
            leads.setdefault(o, []).append((rx, e))
    lead_rx = re.compile(r"(?<!\w)(?:" + _trie_regex([[re.escape(c) for c in o] for o in leads]) + ")") \
        if leads else None
    # the trie returns the longest opening at a place; shorter openings there count too
    leads = {o: tuple(dict.fromkeys(pe for n in range(2, len(o) + 1) for pe in leads.get(o[:n], ())))
             for o in leads}
    pattern_rx = re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{rx.pattern})" for rx, _ in others) + ")") \
        if others else None
    # exclusions also start at a word start, which lets re skip mid-word positions cheaply
    exclusion_rx = re.compile(r"(?<!\w)(?:" + _alt([p for _, p in merged["exclusions"]]) + ")") \
        if merged["exclusions"] else None
    return Lexicon(
        sources=tuple(map(str, files)), thresholds=thresholds, scoring=scoring, entries=entries,
        leet=dict(leet), phrase_rx=phrase_rx, phrase_index=index, prefixes=prefixes, pattern_rx=pattern_rx,
        patterns=tuple(others), exclusion_rx=exclusion_rx, cues=_cue_regexes(merged),
        pattern_lead_rx=lead_rx, pattern_leads=leads,
    )


_MAX_OPENINGS = 300


def _openings(pattern: str) -> frozenset | None:
    """The texts (2+ characters) that every match of `pattern` must start with, or None when
    they can't be listed: the pattern is then tried at every word start. Only a speed-up; it
    reads Python's own regex parse tree and gives up on anything it does not know."""
    try:
        from re import _parser as sre_parse  # Python 3.11+
        tree = sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - any surprise just disables the shortcut for this pattern
        return None
    try:
        found, _ = _lead_texts(tree.data, sre_parse)
    except Exception:  # noqa: BLE001
        return None
    # an empty or one-letter opening would not narrow anything down (one digit is rare enough)
    if not found or any(not t or (len(t) < 2 and t.isalpha()) for t in found):
        return None
    return frozenset(found)


def _lead_texts(items, sp) -> tuple[set, bool]:
    """Literal texts a sequence of parsed items starts with; the flag says they are complete
    (the whole sequence is literal) rather than openings only."""
    texts = {""}
    c = sp  # the opcode constants are re-exported by the parser module
    for op, av in items:
        if op is c.LITERAL:
            part, complete = {chr(av)}, True
        elif op is c.IN:
            chars = set()
            for kind, value in av:
                if kind is c.LITERAL:
                    chars.add(chr(value))
                elif kind is c.RANGE and value[1] - value[0] < 12:
                    chars.update(chr(x) for x in range(value[0], value[1] + 1))
                elif kind is c.CATEGORY and value is c.CATEGORY_DIGIT:
                    chars.update("0123456789")
                else:
                    return texts, False
            part, complete = chars, True
        elif op is c.SUBPATTERN:
            if av[1] or av[2]:  # inline flags
                return texts, False
            part, complete = _lead_texts(av[3].data, sp)
        elif op is c.BRANCH:
            part, complete = set(), True
            for alt in av[1]:
                p, done = _lead_texts(alt.data, sp)
                part |= p
                complete = complete and done
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            part, _ = _lead_texts(av[2].data, sp)
            complete = False  # one repetition is a safe opening; more may follow
        else:  # optional parts, lookarounds, anchors, any character ...
            return texts, False
        joined = {t + p for t in texts for p in part}
        if len(joined) > _MAX_OPENINGS:
            return texts, False
        texts = joined
        if not complete:
            return texts, False
    return texts, True


def _alt(items: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in items)


def _cue_regexes(merged: dict) -> dict:
    neg, res, hyp = merged["negation"], merged["resolved"], merged["hyperbole"]
    fill = rf"(?: +(?:{_alt(neg['fillers'])}))*" if neg["fillers"] else ""
    # "before" cues must END right where the hit starts, with only fillers ("going to") between.
    # One regex for both kinds; a negation wins when both could apply.
    kinds = [f"(?P<neg>{_alt(neg['before'])})" if neg["before"] else "(?P<neg>(?!))",
             f"(?P<res>{_alt(res['before'])})" if res["before"] else "(?P<res>(?!))"]
    return {
        "before": re.compile(rf"(?<!\w)(?:{'|'.join(kinds)}){fill} *$") if neg["before"] or res["before"] else None,
        # every place a "before" cue could start (overlaps too, and "end of window" lookaheads
        # dropped, so it finds a superset): the full search runs only near one of these
        "before_start": re.compile(r"(?<!\w)(?=" + _alt([c.replace("(?= *$)", "") for c in neg["before"]
                                                          + res["before"]]) + ")")
        if neg["before"] or res["before"] else None,
        "neg_after": re.compile(rf"[ .]*(?:{_alt(neg['after'])})(?!\w)") if neg["after"] else None,
        # past-time phrases up to four words after the hit, inside the same clause
        "res_after": re.compile(rf"(?: +[^ .]+){{0,4}}? +(?:{_alt(res['after'])})(?!\w)") if res["after"] else None,
        # searched near an idiom hit / anywhere in the message
        "hyperbole": re.compile(rf"(?<!\w)(?:{_alt(hyp['cues'])})(?!\w)") if hyp["cues"] else None,
        "serious": re.compile(rf"(?<!\w)(?:{_alt(hyp['serious'])})(?!\w)") if hyp["serious"] else None,
    }


def _with_nested(rx: re.Pattern, norm: str):
    """finditer, plus hits starting at a word start inside an earlier hit ("pills" inside
    "took a bunch of pills"), without rescanning the whole text after every hit."""
    for m in rx.finditer(norm):
        yield m
        ws = norm.find(" ", m.start() + 1, m.end() - 1)  # an opening may end with its space
        while ws >= 0:
            inner = rx.match(norm, ws + 1)
            if inner is not None:
                yield inner
            ws = norm.find(" ", ws + 1, m.end() - 1)


def _leet_regex(leet: dict) -> re.Pattern | None:
    if not leet:
        return None
    chars = "".join(re.escape(c) for c in sorted(leet))
    # only inside words ("k1ll", not "20"); the class comes first so re can skip ahead fast
    return re.compile(rf"[{chars}](?<=[A-Za-z].)(?=[A-Za-z])")


def _normalise(text: str, leet: dict, leet_rx: re.Pattern | None) -> _Text:
    t = text
    if leet_rx is not None and leet_rx.search(t):
        t = leet_rx.sub(lambda m: leet[m.group()], t)
    folded = t.translate(_FOLD)
    unquoted = folded.replace("'", "") if "'" in folded else folded
    norm = _SQUEEZE_RX.sub(r"\1", unquoted)
    if norm == folded:
        norm = folded  # same object: lets orig() skip the offset bookkeeping
    return _Text(text, folded, unquoted, norm)


# ---- scoring ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _Hit:
    start: int          # norm offsets
    end: int
    entry: Entry
    negated: bool = False
    resolved: bool = False
    hyperbole: bool = False
    reason_start: int = 0  # span quoted in the reason (includes the cue for negated/resolved)
    reason_end: int = 0


_PACKAGED = object()


class RiskScorer:
    """Scores texts against one Lexicon and, unless model=None, the risk model (by default the
    packaged data/risk_model.json). Thread-safe: score() keeps no state between calls."""

    def __init__(self, lexicon: Lexicon | None = None, model: RiskModel | None = _PACKAGED):
        self.lexicon = lexicon or load_lexicon()
        self.model = load_model() if model is _PACKAGED else model
        if self.model is not None and not isinstance(self.model, RiskModel):
            raise TypeError(f"model must be a RiskModel or None, got {type(self.model).__name__}")
        self._leet_rx = _leet_regex(self.lexicon.leet)
        self._none = RiskAssessment(0, self._level(0))

    def _level(self, score: float) -> str:
        th = self.lexicon.thresholds
        for name in ("high", "medium", "low"):
            if score >= th[name]:
                return name
        return "none"

    def score(self, text: str | None) -> RiskAssessment:
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise TypeError(f"score() needs a str, got {type(text).__name__}")
        a = self.score_lexicon(text)
        return a if self.model is None else self._with_model(text, a)

    def _with_model(self, text: str, a: RiskAssessment) -> RiskAssessment:
        model = self.model
        p = model.probability(text)
        if p < model.threshold or lexicon_overrules_model(a) or not model.enough_text(text):
            return RiskAssessment(a.score, a.level, a.categories, a.matches, a.reasons, p, a.dismissed)
        p, evidence = model.explain(text)
        medium, high = self.lexicon.thresholds["medium"], self.lexicon.thresholds["high"]
        mscore = medium + (p - model.threshold) / (1 - model.threshold) * (high - 1 - medium)
        mscore = max(math.ceil(medium), min(math.ceil(high) - 1, round(mscore)))  # review, never high alone
        if a.score >= mscore:  # the lexicon already says as much: its reasons are the clearer ones
            return RiskAssessment(a.score, a.level, a.categories, a.matches, a.reasons, p, a.dismissed)
        score = mscore
        # the strongest n-grams, overlapping or adjacent ones joined into phrases ("lips look blue")
        spans = sorted({sp: ev.weight for ev in reversed(evidence) for sp in ev.spans}.items())
        phrases: list[list] = []  # [start, end, strongest weight]
        for (s, e), w in spans:
            if phrases and not text[phrases[-1][1]:s].strip():  # overlapping, or only spaces between
                phrases[-1][1] = max(phrases[-1][1], e)
                phrases[-1][2] = max(phrases[-1][2], w)
            else:
                phrases.append([s, e, w])
        matches = a.matches + tuple(RiskMatch(MODEL, "model: " + " ".join(text[s:e].lower().split()),
                                              s, e, mscore, False) for s, e, _ in phrases)
        quoted = ", ".join(dict.fromkeys(_quote(text[s:e], 40) for s, e, _ in
                                         sorted(phrases, key=lambda x: (-x[2], x[0]))[:3]))
        reason = f"reads like texts that needed an adult (model {p:.2f})" + (f": {quoted}" if quoted else "")
        return RiskAssessment(score, self._level(score), a.categories, matches, a.reasons + (reason,), p,
                              a.dismissed)

    def score_lexicon(self, text: str) -> RiskAssessment:
        """The lexicon's assessment alone (model_probability None)."""
        t = _normalise(text, self.lexicon.leet, self._leet_rx)
        hits = self._find(t.norm)
        if not hits:
            return self._none
        dismissed: list[tuple[str, str, str]] = []
        hits = self._filter(t.norm, hits, dismissed)
        dismissed = tuple(dict.fromkeys(dismissed))
        if not hits:
            return RiskAssessment(0, self._level(0), dismissed=dismissed) if dismissed else self._none
        cues = self.lexicon.cues
        cue_starts = [m.start() for m in cues["before_start"].finditer(t.norm)] if cues["before_start"] else []
        serious = None  # looked up once, only if some idiom hit has a hyperbole cue nearby
        for h in hits:
            self._mark_context(t.norm, h, cue_starts)
            if h.entry.idiom and not (h.negated or h.resolved) and self._hyperbole_near(t.norm, h):
                if serious is None:
                    serious = bool(cues["serious"] and cues["serious"].search(t.norm))
                h.hyperbole = not serious
        return self._assess(t, hits, dismissed)

    def _hyperbole_near(self, norm: str, h: _Hit) -> bool:
        rx, window = self.lexicon.cues["hyperbole"], self.lexicon.scoring["context_window"]
        return bool(rx and rx.search(norm, max(0, h.start - window), h.end + window))

    # -- matching

    def _find(self, norm: str) -> list[_Hit]:
        lex, hits = self.lexicon, []
        if lex.phrase_rx is not None:
            index = lex.phrase_index
            for m in _with_nested(lex.phrase_rx, norm):
                text, start = m.group(), m.start()
                key = text if text in index else _key(text)  # spelt unlike any phrase, e.g. "kil"
                hits += [_Hit(start, m.end(), entry) for entry in index.get(key, ())]
                # The trie returns the longest phrase at a position; shorter phrases starting
                # there ("hurts me" inside "hurts me when") must not be shadowed.
                shorter = lex.prefixes.get(key)
                if shorter:
                    ends = [w.end() for w in _WORD_RX.finditer(text)]
                    for n, bucket in shorter:
                        hits += [_Hit(start, start + ends[n - 1], entry) for entry in bucket]
        if lex.pattern_lead_rx is not None:
            leads = lex.pattern_leads
            for m in _with_nested(lex.pattern_lead_rx, norm):
                s = m.start()
                for rx, entry in leads[m.group()]:  # only patterns that can start here
                    mm = rx.match(norm, s)
                    if mm is not None and mm.end() > s:
                        hits.append(_Hit(s, mm.end(), entry))
        if lex.pattern_rx is not None:
            for m in _with_nested(lex.pattern_rx, norm):
                s = m.start()
                for rx, entry in lex.patterns:  # rare: only where some pattern hit
                    mm = rx.match(norm, s)
                    if mm is not None and mm.end() > s:
                        hits.append(_Hit(s, mm.end(), entry))
        return hits

    def _filter(self, norm: str, hits: list[_Hit], dismissed: list | None = None) -> list[_Hit]:
        """Drop hits inside a global exclusion, next to one of the entry's `unless` patterns or
        without any of its `requires` patterns nearby (noted in `dismissed` as (category, label,
        why)); then hits overlapping a stronger hit of the same category."""
        lex = self.lexicon
        spans = [m.span() for m in lex.exclusion_rx.finditer(norm)] if lex.exclusion_rx else []
        window = lex.scoring["context_window"]
        kept = []
        note = dismissed.append if dismissed is not None else (lambda _: None)
        for h in hits:
            if any(a < h.end and h.start < b for a, b in spans):
                note((h.entry.category, h.entry.label, "exclusion"))
                continue
            lo, hi = max(0, h.start - window), h.end + window
            if h.entry.unless_rx is not None and h.entry.unless_rx.search(norm, lo, hi):
                note((h.entry.category, h.entry.label, "unless"))
                continue
            if h.entry.requires_rx is not None and not h.entry.requires_rx.search(norm, lo, hi):
                note((h.entry.category, h.entry.label, "requires"))
                continue
            kept.append(h)
        # Overlapping hits of one category are one statement ("wanna kms"/"kms"): keep the strongest.
        kept.sort(key=lambda h: (-h.entry.weight, h.start - h.end, h.start))
        out: list[_Hit] = []
        for h in kept:
            if not any(o.entry.category == h.entry.category and o.start < h.end and h.start < o.end
                       for o in out):
                out.append(h)
        return out

    def _mark_context(self, norm: str, h: _Hit, cue_starts=None) -> None:
        cues = self.lexicon.cues
        h.reason_start, h.reason_end = h.start, h.end
        lo = max(0, h.start - 60)
        near = cue_starts is None or any(lo <= p < h.start for p in cue_starts)
        m = near and cues["before"] and cues["before"].search(norm, lo, h.start)
        if m:
            h.negated, h.resolved = m.group("neg") is not None, m.group("neg") is None
            h.reason_start = m.start()
            return
        m = cues["neg_after"] and cues["neg_after"].match(norm, h.end)
        if m:
            h.negated, h.reason_end = True, m.end()
            return
        m = cues["res_after"] and cues["res_after"].match(norm, h.end)
        if m:
            h.resolved, h.reason_end = True, m.end()

    # -- scoring

    def _assess(self, t: _Text, hits: list[_Hit], dismissed: tuple = ()) -> RiskAssessment:
        sc = self.lexicon.scoring
        hits.sort(key=lambda h: (h.start, -h.end))
        matches, reasons = [], []
        best: dict[str, list[float]] = {}
        labels: dict[str, set] = {}
        live_cats, danger_kinds = set(), []
        for h in hits:
            e = h.entry
            w = e.weight * (sc["negated_factor"] if h.negated or h.hyperbole else 1) \
                * (sc["resolved_factor"] if h.resolved else 1)
            start, end = t.orig(h.start), t.orig(h.end, end=True)
            matches.append(RiskMatch(e.category, e.label, start, end, round(w), h.negated, h.resolved,
                                     h.hyperbole))
            best.setdefault(e.category, []).append(w)
            labels.setdefault(e.category, set()).add(e.label)
            if h.reason_start != h.start:
                start = t.orig(h.reason_start)
            if h.reason_end != h.end:
                end = t.orig(h.reason_end, end=True)
            quoted = _quote(t.text[start:end])
            if h.negated:
                reasons.append(f"negated: {quoted}")
            elif h.resolved:
                reasons.append(f"past/resolved: {quoted}")
            elif h.hyperbole:
                reasons.append(f"hyperbole?: {quoted}")
            else:
                live_cats.add(e.category)
                kind = f"{e.kind} " if e.kind else ""
                reasons.append(f"{TITLES[e.category]}: {kind}{quoted}")
                if e.category == DANGER and (e.kind or e.label) not in danger_kinds:
                    danger_kinds.append(e.kind or e.label)

        cat_score = {}
        for cat, ws in best.items():
            # danger words add up through the danger boost instead
            extra = (len(labels[cat]) - 1) * sc["same_category_bonus"] if cat in sc["cooccur_categories"] else 0
            cat_score[cat] = max(ws) + min(sc["same_category_bonus_max"], extra)
        top = max(cat_score, key=cat_score.get)
        score = cat_score[top]

        others = [c for c in sc["cooccur_categories"]
                  if c != top and cat_score.get(c, 0) >= sc["cooccur_min_weight"]]
        if others and top in sc["cooccur_categories"]:
            bonus = min(sc["cooccur_bonus_max"], sc["cooccur_bonus"] * len(others))
            score += bonus
            reasons.append(f"co-occurring: {', '.join(TITLES[c] for c in others)} (+{round(bonus)})")

        triggers = [c for c in sc["danger_triggers"] if c in live_cats]
        if triggers and danger_kinds:
            boost = min(sc["danger_boost_max"], sc["danger_boost_per_kind"] * len(danger_kinds))
            score += boost
            reasons.append(f"danger boost: {', '.join(danger_kinds)} with "
                           f"{', '.join(TITLES[c] for c in triggers)} (+{round(boost)})")

        if not any(c != DANGER for c in live_cats) and any(c != DANGER for c in best) \
                and score > sc["review_cap"]:
            score = sc["review_cap"]
            reasons.append("capped for review: every risk phrase is negated, in the past or a joke")

        score = max(0, min(100, round(score)))
        categories = tuple(c for c in CATEGORIES if c in live_cats) + \
            tuple(c for c in CATEGORIES if c in best and c not in live_cats)
        return RiskAssessment(score, self._level(score), categories, tuple(matches),
                              tuple(dict.fromkeys(reasons)), dismissed=dismissed)


def _quote(s: str, limit: int = 60) -> str:
    s = " ".join(s.split())
    return '"' + (s if len(s) <= limit else s[:limit - 1] + "\u2026") + '"'


@functools.lru_cache(maxsize=1)
def _default_scorer() -> RiskScorer:
    return RiskScorer(load_lexicon(), load_model())


def score_text(text: str | None) -> RiskAssessment:
    """Score with the packaged lexicon and model (loaded once per process)."""
    return _default_scorer().score(text)
