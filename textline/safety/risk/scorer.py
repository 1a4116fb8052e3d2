"""Scoring a text: lexicon hits (negated, past, joking or not), the category and co-occurrence rules,
and the model's second opinion, combined into a RiskAssessment with reasons and highlightable matches.
The rules are in the package's docstring (textline/safety/risk/__init__.py)."""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from textline.safety.risk.lexicon import CATEGORIES, Entry, Lexicon, leet_regex, load_lexicon, with_nested
from textline.safety.risk.model import RiskModel, load_model
from textline.safety.risk.normalise import WORD_RX, NormalText, lookup_key, normalise_text

TITLES = {
    "suicide_self_harm": "suicide/self-harm",
    "abuse_violence": "abuse/violence",
    "immediate_danger": "immediate danger",
    "substance_emergency": "substance emergency",
}
LEVELS = ("none", "low", "medium", "high")
DANGER = "immediate_danger"
MODEL = "model"  # category of the matches that explain a model decision (not a risk category)
# Twilio caps an SMS at 1,600 characters. A longer body is stored whole but only its start is scored,
# so no text can hold a web process up (offsets into the start are offsets into the whole).
SCORED_CHARS = 1600


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
        d = {"category": self.category, "label": self.label, "start": self.start, "end": self.end,
             "negated": self.negated}
        if self.resolved or self.hyperbole:  # lowered like a negation (read by conversation.py)
            d["lowered"] = True
        return d


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
        self._leet_rx = leet_regex(self.lexicon.leet)
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
        return self.score_uncapped(text[:SCORED_CHARS])

    def score_uncapped(self, text: str) -> RiskAssessment:
        """score() without the length cap; linear in the text's length (tests/unit/test_risk_limits.py)."""
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
        t = normalise_text(text, self.lexicon.leet, self._leet_rx)
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
            for m in with_nested(lex.phrase_rx, norm):
                text, start = m.group(), m.start()
                key = text if text in index else lookup_key(text)  # spelt unlike any phrase, e.g. "kil"
                hits += [_Hit(start, m.end(), entry) for entry in index.get(key, ())]
                # The trie returns the longest phrase at a position; shorter phrases starting
                # there ("hurts me" inside "hurts me when") must not be shadowed.
                shorter = lex.prefixes.get(key)
                if shorter:
                    ends = [w.end() for w in WORD_RX.finditer(text)]
                    for n, bucket in shorter:
                        hits += [_Hit(start, start + ends[n - 1], entry) for entry in bucket]
        if lex.pattern_lead_rx is not None:
            leads = lex.pattern_leads
            for m in with_nested(lex.pattern_lead_rx, norm):
                s = m.start()
                for rx, entry in leads[m.group()]:  # only patterns that can start here
                    mm = rx.match(norm, s)
                    if mm is not None and mm.end() > s:
                        hits.append(_Hit(s, mm.end(), entry))
        if lex.pattern_rx is not None:
            for m in with_nested(lex.pattern_rx, norm):
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
        # Characters taken per category are marked, so each check costs the hit's length, not the
        # number of hits kept so far (the scorer stays linear on "pills pills pills ...").
        kept.sort(key=lambda h: (-h.entry.weight, h.start - h.end, h.start))
        out: list[_Hit] = []
        taken: dict[str, bytearray] = {}
        for h in kept:
            mark = taken.get(h.entry.category)
            if mark is None:
                mark = taken[h.entry.category] = bytearray(len(norm) + 1)
            if mark.find(1, h.start, h.end) < 0:
                mark[h.start:h.end] = b"\x01" * (h.end - h.start)
                out.append(h)
        return out

    def _mark_context(self, norm: str, h: _Hit, cue_starts=None) -> None:
        cues = self.lexicon.cues
        h.reason_start, h.reason_end = h.start, h.end
        lo = max(0, h.start - 60)
        if cue_starts is None:
            near = True
        else:  # cue_starts is sorted: is there one in [lo, h.start)?
            k = bisect.bisect_left(cue_starts, lo)
            near = k < len(cue_starts) and cue_starts[k] < h.start
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

    def _assess(self, t: NormalText, hits: list[_Hit], dismissed: tuple = ()) -> RiskAssessment:
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
                reasons.append(f"{e.sign}: {quoted}" if e.sign else f"{TITLES[e.category]}: {kind}{quoted}")
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


# The process's scorer and what it is made of: the packaged lexicon and model until an admin's lexicon edit
# (use_lexicon: textline/triage/lexicon_edits.py) or a promoted model (use_model: textline/riskmodels/live.py).
_parts: dict = {}
_live: list[RiskScorer] = []


def _default_scorer() -> RiskScorer:
    if not _live:
        _install()
    return _live[0]


def _install() -> None:
    """Build the scorer from the current parts. No lock (a lexicon can be installed from a native thread
    under gevent, where a patched lock is not for it): each step is one atomic assignment, and a swap that
    ran beside another one builds again until what it built is what the parts say."""
    while True:
        if "lexicon" not in _parts:
            _parts.setdefault("lexicon", load_lexicon())
        if "model" not in _parts:
            _parts.setdefault("model", load_model())
        lexicon, model = _parts["lexicon"], _parts["model"]
        scorer = RiskScorer(lexicon, model)
        if _live:
            _live[0] = scorer
        else:
            _live.append(scorer)
        if _parts["lexicon"] is lexicon and _parts["model"] is model:
            return


def use_lexicon(lexicon: Lexicon) -> None:
    """Score from now on with `lexicon` (the packaged one with the admins' edits). A text being scored
    meanwhile finishes with the scorer it started with."""
    _parts["lexicon"] = lexicon
    _install()


def use_model(model: RiskModel | None) -> None:
    """Score from now on with `model` (None: the packaged one)."""
    _parts["model"] = model if model is not None else load_model()
    _install()


def packaged_lexicon() -> Lexicon:
    """The lexicon score_text() uses (the packaged one, with the admins' edits once use_lexicon() was called)."""
    return _default_scorer().lexicon


def score_text(text: str | None) -> RiskAssessment:
    """Score with the process's lexicon and model (the packaged ones unless use_lexicon/use_model)."""
    return _default_scorer().score(text)
