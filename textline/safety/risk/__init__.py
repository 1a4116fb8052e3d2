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

Model (model.py, data/risk_model.json; trained by scripts/train_risk_model.py): a
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
from textline.safety.risk.lexicon import CATEGORIES, Lexicon, LexiconError, load_lexicon
from textline.safety.risk.model import ModelError, RiskModel, load_model
from textline.safety.risk.scorer import (
    LEVELS, MODEL, RiskAssessment, RiskMatch, RiskScorer, lexicon_overrules_model, score_text,
)

__all__ = ["CATEGORIES", "LEVELS", "LexiconError", "Lexicon", "MODEL", "ModelError", "RiskAssessment", "RiskMatch",
           "RiskModel", "RiskScorer", "load_lexicon", "load_model", "lexicon_overrules_model", "score_text"]
