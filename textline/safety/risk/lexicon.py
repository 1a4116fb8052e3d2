"""The risk lexicon (data/risk_lexicon.yaml, plus an admin's extra files): read strictly, every problem
named with its file and entry, and compiled into the regular expressions the scorer runs."""
from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from textline.safety.risk.normalise import lookup_key, normalise_text

CATEGORIES = ("suicide_self_harm", "abuse_violence", "immediate_danger", "substance_emergency")
DEFAULT_LEXICON = Path(__file__).resolve().parents[2] / "data" / "risk_lexicon.yaml"


class LexiconError(ValueError):
    """The lexicon file is unreadable or holds bad data; the message names file, entry and problem."""


_TOP_KEYS = {"version", "thresholds", "scoring", "normalize", "negation", "resolved", "hyperbole",
             "exclusions", "entries"}
_ENTRY_KEYS = {"label", "category", "weight", "phrases", "patterns", "unless", "requires", "kind", "idiom", "sign"}
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
    sign: str | None = None  # a published warning sign, said plainly to volunteers ("said goodbye")


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A loaded, validated and compiled lexicon. Build it with load_lexicon()."""
    sources: tuple[str, ...]
    thresholds: dict
    scoring: dict
    entries: tuple[Entry, ...]
    leet: dict
    phrase_rx: re.Pattern | None = field(repr=False)
    phrase_index: dict = field(repr=False)         # matched text or its lookup_key() -> [Entry]
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
    sign = raw.get("sign")
    if sign is not None and (not isinstance(sign, str) or not sign.strip()):
        _fail(where, "sign must be a non-empty string (the reason volunteers read)")
    unless, requires = context["unless"], context["requires"]
    return Entry(label.strip(), category, weight, tuple(phrases), tuple(patterns), tuple(unless),
                 tuple(requires), kind, src,
                 re.compile(_alt(unless)) if unless else None,
                 re.compile(_alt(requires)) if requires else None, idiom, sign and sign.strip())


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
    matching lookup_key() and the squeezing of the text."""
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


def load_lexicon(path=None, extra_paths=(), extra_entries=()) -> Lexicon:
    """Load the packaged lexicon (or `path`), merge admin extension files, then `extra_entries` (entry
    mappings as in the files' `entries`, merged last: the admins' edits kept in SQL, textline/triage/),
    validate, compile. Compiling takes a second or two, so the result is kept while the inputs are unchanged."""
    files = [Path(path) if path else DEFAULT_LEXICON] + [Path(p) for p in (extra_paths or ())]
    extra = json.dumps(list(extra_entries), sort_keys=True) if extra_entries else ""
    try:
        stamp = tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        return _load_lexicon(files, extra)  # reports the unreadable file
    return _load_lexicon_cached(stamp, tuple(files), extra)


@functools.lru_cache(maxsize=8)
def _load_lexicon_cached(stamp: tuple, files: tuple, extra: str) -> Lexicon:
    return _load_lexicon(list(files), extra)


def _load_lexicon(files: list, extra: str = "") -> Lexicon:
    merged = {"thresholds": {}, "scoring": {}, "leet": {}, "synonyms": [], "exclusions": [],
              "entries": {}, **{section: {k: [] for k in keys} for section, keys in _CUE_KEYS.items()}}
    for f in files:
        _merge(merged, _read(f), str(f))
    if extra:
        _merge(merged, {"entries": json.loads(extra)}, "edits")
    sources = ", ".join(map(str, files)) + (", edits" if extra else "")
    thresholds, scoring = _check_settings(merged, sources)
    entries = tuple(merged["entries"].values())
    if not entries:
        _fail(sources, "the lexicon has no entries")

    leet = merged["leet"]
    leet_rx = leet_regex(leet)

    def norm(s: str) -> str:
        return " ".join(normalise_text(s, leet, leet_rx).norm.replace(".", " ").split())

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
                bucket = index.setdefault(lookup_key(text), [])
                if entry not in bucket:
                    bucket.append(entry)
                index.setdefault(text, bucket)  # exact spelling: most hits skip computing lookup_key()
    prefixes = {}
    for text in index:
        words, shorter = text.split(" "), []
        for n in range(1, len(words)):
            prefix = " ".join(words[:n])
            bucket = index.get(prefix) or index.get(lookup_key(prefix))
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
    leads = {o: tuple(dict.fromkeys(pe for n in range(1, len(o) + 1) for pe in leads.get(o[:n], ())))
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


def with_nested(rx: re.Pattern, norm: str):
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


def leet_regex(leet: dict) -> re.Pattern | None:
    if not leet:
        return None
    chars = "".join(re.escape(c) for c in sorted(leet))
    # only inside words ("k1ll", not "20"); the class comes first so re can skip ahead fast
    return re.compile(rf"[{chars}](?<=[A-Za-z].)(?=[A-Za-z])")
