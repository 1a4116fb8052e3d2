"""Tests for textline.safety.risk: lexicon loading, offsets, matching rules, scoring, and the
held-out evaluation set (tests/data/risk_eval.jsonl, written independently of the lexicon).

`scorer` is the production scorer (lexicon + packaged model, as score_text() uses it);
`lexicon_only` (model=None) tests lexicon mechanics whose outcome the model may change on purpose
(tests/unit/test_risk_model.py covers the model and the combination rule). Tiny test lexicons
are always used without the model: it was trained for the packaged lexicon's thresholds."""
import json
import os
from pathlib import Path

import pytest

from textline.safety.risk import (
    CATEGORIES, LexiconError, RiskAssessment, RiskMatch, RiskScorer, load_lexicon, score_text,
)
from textline.safety.risk.lexicon import _openings

DATA = Path(__file__).resolve().parents[1] / "data"


# A tiny standalone lexicon: thresholds 10/20/30 so level tests cannot pass by accident with the
# packaged 15/40/70.
TINY = """
thresholds: {low: 10, medium: 20, high: 30}
scoring:
  same_category_bonus: 0
  same_category_bonus_max: 0
  cooccur_bonus: 0
  cooccur_bonus_max: 0
  cooccur_min_weight: 25
  cooccur_categories: [suicide_self_harm, abuse_violence, substance_emergency]
  danger_triggers: [suicide_self_harm, abuse_violence]
  danger_boost_per_kind: 15
  danger_boost_max: 30
  negated_factor: 0.5
  resolved_factor: 0.5
  review_cap: 29
  context_window: 40
negation: {before: [not], fillers: [going to]}
entries:
  - {label: w9, category: suicide_self_harm, weight: 9, phrases: [alpha]}
  - {label: w10, category: suicide_self_harm, weight: 10, phrases: [bravo]}
  - {label: w19, category: suicide_self_harm, weight: 19, phrases: [charlie]}
  - {label: w20, category: suicide_self_harm, weight: 20, phrases: [delta]}
  - {label: w29, category: suicide_self_harm, weight: 29, phrases: [echo]}
  - {label: w30, category: suicide_self_harm, weight: 30, phrases: [foxtrot]}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- loader ---------------------------------------------------------------------------------------

def test_packaged_lexicon_covers_every_category():
    lex = load_lexicon()
    assert {e.category for e in lex.entries} == set(CATEGORIES)
    assert lex.thresholds == {"low": 15, "medium": 40, "high": 70}


def test_standalone_file_loads(tmp_path):
    lex = load_lexicon(write(tmp_path, "tiny.yaml", TINY))
    assert [e.label for e in lex.entries] == ["w9", "w10", "w19", "w20", "w29", "w30"]
    assert RiskScorer(lex, model=None).score("foxtrot").is_high


def test_extension_file_is_merged(tmp_path):
    ext = write(tmp_path, "admin.yaml", """
entries:
  - label: local slang for abuse
    category: abuse_violence
    weight: 80
    phrases: ["{zorblaxes|zorblaxed} me"]
""")
    text = "my stepdad zorblaxed me again"  # (the model alone already reads this as high)
    assert RiskScorer(load_lexicon(), model=None).score(text).level == "none"
    a = RiskScorer(load_lexicon(extra_paths=[ext]), model=None).score(text)
    assert a.is_high
    assert a.categories == ("abuse_violence",)
    assert text[a.matches[0].start:a.matches[0].end] == "zorblaxed me"
    assert a.matches[0].label == "local slang for abuse"


def test_extension_entry_with_same_label_replaces_the_original(tmp_path):
    ext = write(tmp_path, "admin.yaml", """
entries:
  - label: kill myself
    category: suicide_self_harm
    weight: 30
    phrases: [kill myself]
""")
    base = RiskScorer(load_lexicon(), model=None).score("i want to kill myself")
    lowered = RiskScorer(load_lexicon(extra_paths=[ext]), model=None).score("i want to kill myself")
    assert base.is_high
    assert lowered.score == 30 and lowered.level == "low"


def test_extension_can_add_an_unless_rule(tmp_path):
    text = "lol the new album is giving me want to die energy"
    assert score_text(text).is_high  # without the admin's rule this is a hit
    ext = write(tmp_path, "admin.yaml", """
entries:
  - label: want to die
    category: suicide_self_harm
    weight: 75
    phrases: [want to die]
    unless: ['want to die energy']
""")
    assert RiskScorer(load_lexicon(extra_paths=[ext])).score(text).level == "none"


BAD_ENTRIES = [
    ("{label: x, category: suicide, weight: 50, phrases: [a]}", "unknown category 'suicide'"),
    ("{label: x, category: abuse_violence, phrases: [a]}", "missing weight"),
    ("{label: x, category: abuse_violence, weight: 150, phrases: [a]}", "weight must be a number from 0 to 100"),
    ("{label: x, category: abuse_violence, weight: yes, phrases: [a]}", "weight must be a number"),
    ("{label: x, category: abuse_violence, weight: 50, patterns: ['(unclosed']}", "bad regex '(unclosed'"),
    ("{label: x, category: abuse_violence, weight: 50, phrases: [a], unless: ['[z-a]']}", "bad regex '[z-a]'"),
    ("{label: x, category: abuse_violence, weight: 50, patterns: ['a*']}", "matches empty text"),
    ("{label: x, category: abuse_violence, weight: 50, patterns: ['(?P<n>a)']}", "named groups"),
    ("{label: x, category: abuse_violence, weight: 50}", "needs at least one phrase or pattern"),
    ("{label: x, category: abuse_violence, wieght: 50, phrases: [a]}", "unknown field(s) ['wieght']"),
    ("{category: abuse_violence, weight: 50, phrases: [a]}", "missing label"),
    ("{label: x, category: abuse_violence, weight: 50, phrases: [7]}", "bad item 7"),
    ("{label: x, category: abuse_violence, weight: 50, phrases: [a], idiom: yes please}", "idiom must be true or false"),
    ("just a string", "must be a mapping"),
]


@pytest.mark.parametrize("entry, problem", BAD_ENTRIES)
def test_bad_entry_gives_a_clear_error(tmp_path, entry, problem):
    ext = write(tmp_path, "admin.yaml", f"entries:\n  - {entry}\n")
    with pytest.raises(LexiconError) as err:
        load_lexicon(extra_paths=[ext])
    message = str(err.value)
    assert str(ext) in message          # which file
    assert "entries[0]" in message      # which entry
    assert problem in message           # what is wrong


def test_bad_phrase_braces_name_the_entry(tmp_path):
    ext = write(tmp_path, "admin.yaml",
                "entries:\n  - {label: braces, category: abuse_violence, weight: 50, phrases: ['{he|she hits me']}\n")
    with pytest.raises(LexiconError, match=r"admin\.yaml: entry 'braces': phrase .* unbalanced"):
        load_lexicon(extra_paths=[ext])


@pytest.mark.parametrize("text, problem", [
    ("entries: [\n", "invalid YAML"),
    ("entries:\n  - label: x\n    label: y\n    category: abuse_violence\n    weight: 5\n    phrases: [a]\n",
     "duplicate key 'label'"),
    ("thresholds: {low: 50, medium: 40}\n", "need low < medium < high"),
    ("scoring: {negated_factor: 2}\n", "scoring.negated_factor: must be a number from 0 to 1"),
    ("scoring: {danger_triggers: [suicide]}\n", "scoring.danger_triggers"),
    ("exclusions:\n  - {label: x, pattern: '(('}\n", "exclusions[0]: bad regex"),
    ("negation: {before: ['(']}\n", "negation.before: bad regex"),
    ("colours: [red]\n", "unknown section(s) ['colours']"),
    ("hyperbole: {cues: ['(']}\n", "hyperbole.cues: bad regex"),
    ("hyperbole: {laughs: [lol]}\n", "hyperbole: must be a mapping with some of"),
])
def test_bad_settings_give_a_clear_error(tmp_path, text, problem):
    ext = write(tmp_path, "admin.yaml", text)
    with pytest.raises(LexiconError) as err:
        load_lexicon(extra_paths=[ext])
    assert str(ext) in str(err.value) or "admin.yaml" in str(err.value)
    assert problem in str(err.value)


def test_missing_file_gives_a_clear_error(tmp_path):
    with pytest.raises(LexiconError, match="nope.yaml: cannot read lexicon"):
        load_lexicon(tmp_path / "nope.yaml")


# ---- offsets --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("OMG i want to dieeeee 😭😭", "want to dieeeee"),
    ("I’m gonna k!ll    mys3lf.", "k!ll    mys3lf"),
    ("i don't wanna live like this", "don't wanna live"),
    ("Sooo... he said he'd KILL me if I tell", "KILL me if I tell"),
    ("éverything hurts, i'm SUICIDAL’", "SUICIDAL"),
    ("ok\n\nmy stepdad hits me", "hits me"),
])
def test_offsets_point_into_the_original_text(scorer, text, expected):
    a = scorer.score(text)
    spans = [text[m.start:m.end] for m in a.matches]
    assert expected in spans, spans


def test_offsets_are_trimmed_on_the_dev_set(scorer):
    for row in _rows("risk_dev.jsonl"):
        text = row["text"]
        for m in scorer.score(text).matches:
            piece = text[m.start:m.end]
            assert 0 <= m.start < m.end <= len(text)
            assert piece[0].isalnum() and piece[-1].isalnum(), (row["id"], piece)


# ---- matching -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "kil myself", "i feel suicidel", "been thinking about sucide", "suiside is all i think about",
    "i wanna kms", "gonna unalive myself", "thinking about sewerslide", "ctb tonight",
    "i wanna dieeee", "i just want to end it all", "i dont want to be here anymore",
    "i want to d1e", "I WANT TO DIE", "i’m going to kill myself", "i relapsed on sh last night",
    "wanna die.....", "i want 2 die", "i wish i was dead!!!!", "im so suicidal rn 😭",
])
def test_misspellings_and_text_speak_are_high(scorer, text):
    a = scorer.score(text)
    assert a.is_high, a.reasons
    assert "suicide_self_harm" in a.categories


@pytest.mark.parametrize("text, category", [
    ("my friend od'd and wont wake up", "substance_emergency"),
    ("i think she overdosed", "substance_emergency"),
    ("i took 30 tylenol", "substance_emergency"),
    ("mixed xanax and alcohol and feel weird", "substance_emergency"),
    ("my dad beats me", "abuse_violence"),
    ("kids keep telling me to kys", "abuse_violence"),
    ("my uncle touches me at night", "abuse_violence"),
])
def test_other_categories_are_high(scorer, text, category):
    a = scorer.score(text)
    assert a.is_high and category in a.categories, a.reasons


@pytest.mark.parametrize("text", ["sh dont tell anyone", "shh", "thats so od lol", "hit me up later",
                                  "she beat me at chess"])
def test_ambiguous_shorthand_needs_context(lexicon_only, text):
    # with the model, "sh dont tell anyone" is high (p ~0.7: secrecy reads like grooming/self-harm)
    assert lexicon_only.score(text).level == "none"


def test_requires_needs_a_person_nearby(scorer):
    assert scorer.score("my stepdad hit me again").is_high
    assert scorer.score("the ball hit me in gym").level == "none"


def test_a_longer_phrase_does_not_shadow_a_shorter_one(tmp_path):
    ext = write(tmp_path, "ext.yaml", """
entries:
  - {label: long, category: suicide_self_harm, weight: 20, phrases: [golf hotel india]}
  - {label: short, category: abuse_violence, weight: 30, phrases: [golf hotel]}
""")
    lex = load_lexicon(write(tmp_path, "tiny.yaml", TINY), extra_paths=[ext])
    text = "so golf hotel india ok"
    a = RiskScorer(lex, model=None).score(text)
    assert sorted((m.label, text[m.start:m.end]) for m in a.matches) == [
        ("long", "golf hotel india"), ("short", "golf hotel")]


@pytest.mark.parametrize("negated, plain", [
    ("I'm not going to kill myself", "I'm going to kill myself"),
    ("i would never hurt myself", "i would hurt myself"),
    ("not suicidal", "suicidal"),
    ("i don't want to die", "i want to die"),
    ("i wanna die lol jk", "i wanna die lol"),
])
def test_negation_is_flagged_and_lowered_for_review(scorer, negated, plain):
    a, b = scorer.score(negated), scorer.score(plain)
    assert b.is_high
    assert a.level in ("low", "medium"), (a.score, a.reasons)
    assert a.categories == b.categories == ("suicide_self_harm",)
    assert all(m.negated for m in a.matches) and not any(m.negated for m in b.matches)
    assert a.matches[0].weight < b.matches[0].weight
    assert a.reasons[0].startswith("negated: ")


@pytest.mark.parametrize("text", ["i used to cut", "i tried to kill myself two years ago",
                                  "i used to want to die back in middle school"])
def test_past_tense_is_lowered(scorer, text):
    a = scorer.score(text)
    assert a.matches and all(m.resolved for m in a.matches)
    assert a.level in ("low", "medium"), (a.score, a.reasons)
    assert a.reasons[0].startswith("past/resolved: ")


def test_clause_break_stops_negation(scorer):
    assert scorer.score("i'm not okay, i want to die").is_high
    assert scorer.score("im not ok i want to die").is_high


HARD_NEGATIVES = [
    "this homework is killing me", "i could kill for pizza", "dying of laughter", "my phone died",
    "got killed in fortnite", "cut my hair", "overdosed on coffee lol", "the exam murdered me",
    "my mom is gonna kill me when she sees my grades", "i almost died laughing",
    "i cut myself shaving", "we learned about suicide prevention", "i want to die my hair pink",
    "lol im dead", "i'm dying to see that movie", "i cut myself off from everyone",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_are_not_high(scorer, text):
    a = scorer.score(text)
    assert not a.is_high, a.reasons
    assert a.level in ("none", "low"), a.reasons


def test_immediate_danger_lifts_the_score(lexicon_only):
    # (the model reads "i cant do this anymore" alone as high: p ~0.9)
    alone = lexicon_only.score("i cant do this anymore")
    with_means = lexicon_only.score("i cant do this anymore i have a rope")
    with_both = lexicon_only.score("i cant do this anymore i have a rope and its happening tonight")
    assert alone.score < with_means.score < with_both.score
    assert not alone.is_high and with_both.is_high
    assert "immediate_danger" in with_both.categories
    assert any(r.startswith("danger boost: ") for r in with_both.reasons)
    assert 'immediate danger: time "tonight"' in with_both.reasons


def test_danger_words_alone_or_negated_are_not_high(scorer):
    assert scorer.score("grabbing a knife for cooking class tonight").level == "none"
    assert not scorer.score("i'm not going to kill myself tonight").is_high


def test_categories_order_live_first_then_negated(scorer):
    both = scorer.score("my dad beats me and i want to die")
    assert both.categories == ("suicide_self_harm", "abuse_violence")
    mixed = scorer.score("im not suicidal but my dad hits me")
    assert mixed.categories == ("abuse_violence", "suicide_self_harm")
    assert mixed.is_high


def test_reason_format(scorer):
    a = scorer.score("i wanna kms tonight")
    assert a.reasons[:2] == ('suicide/self-harm: "kms"', 'immediate danger: time "tonight"')
    assert a.is_high and a.score == 100


# ---- hyperbole, retractions, reported speech ------------------------------------------------------

@pytest.mark.parametrize("joke, plain", [
    ("tripped on stage in front of everyone, i want to die lmao", "tripped on stage, i want to die"),
    ("my mom showed my crush baby pics i wanna die hahaha", "my mom showed my crush baby pics i wanna die"),
    ("this chem lecture is so boring i want to die", "this chem lecture i want to die"),
])
def test_idiom_next_to_a_hyperbole_cue_is_lowered_but_shown(scorer, joke, plain):
    a, b = scorer.score(joke), scorer.score(plain)
    assert b.is_high and not a.is_high, (a.reasons, b.reasons)
    assert a.level in ("low", "medium")
    assert any(m.hyperbole for m in a.matches) and not any(m.hyperbole for m in b.matches)
    assert any(r.startswith("hyperbole?: ") for r in a.reasons)
    assert a.categories == ("suicide_self_harm",)  # still flagged for review


@pytest.mark.parametrize("text", [
    "i want to die lol",                          # "lol" does not cancel a self-statement
    "i want to die lmao im not joking",           # a serious marker switches hyperbole off
    "i wanna kms lmao",                           # only entries marked idiom are lowered
])
def test_hyperbole_cues_do_not_cancel_serious_statements(scorer, text):
    assert scorer.score(text).is_high, scorer.score(text).reasons


def test_hyperbole_only_applies_to_idiom_entries(tmp_path):
    ext = write(tmp_path, "ext.yaml", """
hyperbole: {cues: [zonk], serious: [truly]}
entries:
  - {label: plain, category: suicide_self_harm, weight: 30, phrases: [golf]}
  - {label: joke-prone, category: suicide_self_harm, weight: 30, phrases: [hotel], idiom: true}
""")
    s = RiskScorer(load_lexicon(write(tmp_path, "tiny.yaml", TINY), extra_paths=[ext]), model=None)
    assert s.score("golf zonk").is_high
    lowered = s.score("hotel zonk")
    assert lowered.score == 15 and lowered.matches[0].hyperbole and not lowered.matches[0].negated
    assert s.score("hotel zonk truly").is_high
    assert s.score("hotel").is_high


@pytest.mark.parametrize("text", [
    "this class is so long im gonna jump off the roof lol jk",
    "my sister keeps telling me to go die lol shes joking",
])
def test_a_retraction_later_in_the_clause_negates(scorer, text):
    a = scorer.score(text)
    assert not a.is_high and a.matches and all(m.negated for m in a.matches if m.category != "immediate_danger")


def test_a_retraction_must_not_be_negated_itself(scorer):
    assert scorer.score("i want to jump off the roof im not joking").is_high


def test_reported_joke_is_lowered(scorer):
    a = scorer.score("my friend joked about kms in class today")
    assert not a.is_high and a.matches[0].negated


@pytest.mark.parametrize("negated, plain", [
    ("no quiero morir, solo estoy triste", "quiero morir"),
    ("no self harm this week", "self harm again tonight"),
])
def test_no_right_before_a_hit_negates(scorer, negated, plain):
    assert scorer.score(plain).is_high
    a = scorer.score(negated)
    assert not a.is_high and a.matches[0].negated


def test_not_afraid_of_dying_is_not_a_negation(scorer):
    a = scorer.score("im not even scared of dying anymore")
    assert a.is_high and not any(m.negated for m in a.matches)


@pytest.mark.parametrize("text", [
    "my ex hit me once in 7th grade, im over it",
    "my bf hit me last month but i dumped him",
])
def test_more_past_and_resolved_cues(scorer, text):
    a = scorer.score(text)
    assert not a.is_high and a.matches and all(m.resolved for m in a.matches if m.category == "abuse_violence")


def test_third_party_self_harm_is_high_only_when_happening_now(lexicon_only, scorer):
    # (the model raises the question to high, p ~0.5: it cannot tell asking from telling)
    assert not lexicon_only.score("how can i tell if my cousin is self harming").is_high
    assert lexicon_only.score("my cousin is cutting right now and wont open the door").is_high
    assert scorer.score("my cousin is cutting right now and wont open the door").is_high


def test_vague_do_it_needs_a_plan_or_means_nearby(lexicon_only, scorer):
    # (the model reads "im doing it tonight" alone as high: p ~0.9, mostly from "tonight")
    assert not lexicon_only.score("im doing it tonight").is_high
    for s in (lexicon_only, scorer):
        assert s.score("i have a plan and im doing it tonight").is_high
        assert s.score("got the rope and im gonna do it").is_high


# ---- pattern openings (speed-up that must not change results) -------------------------------------

@pytest.mark.parametrize("pattern, openings", [
    (r"(?:took|swallowed) (?:like )?\d+", {"took ", "swallowed "}),
    (r"scratch\w* my", {"scratch"}),
    (r"fantasi[sz]e x", {"fantasise x", "fantasize x"}),
    (r"(?:ab|bc)d", {"abd", "bcd"}),
    (r"\d{1,2} ?am", set("0123456789")),
    (r"(?:i |really )?zorb", None),   # may start with optional words: tried at every word start
    (r"a|bc", None),                  # one letter narrows nothing down
    (r"l+ol", None),
])
def test_pattern_openings(pattern, openings):
    got = _openings(pattern)
    assert (None if got is None else set(got)) == openings


def test_patterns_match_with_and_without_openings(tmp_path):
    ext = write(tmp_path, "ext.yaml", r"""
entries:
  - {label: known opening, category: abuse_violence, weight: 30, patterns: ['zorb(?:led|ed) me']}
  - {label: no opening, category: suicide_self_harm, weight: 30, patterns: ['(?:so |very )?blorp(?:ed|ing)']}
""")
    s = RiskScorer(load_lexicon(write(tmp_path, "tiny.yaml", TINY), extra_paths=[ext]), model=None)
    text = "ok so he zorbled me and im blorping"
    a = s.score(text)
    assert sorted((m.label, text[m.start:m.end]) for m in a.matches) == [
        ("known opening", "zorbled me"), ("no opening", "blorping")]
    # an opening inside a longer match is still tried ("zorbed me" starts inside "so zorbed ...")
    b = s.score("very blorped zorbed me")
    assert {m.label for m in b.matches} == {"known opening", "no opening"}


def test_lexicon_is_reloaded_when_the_file_changes(tmp_path):
    path = write(tmp_path, "tiny.yaml", TINY)
    first = load_lexicon(path)
    assert load_lexicon(path) is first  # unchanged file: compiled once
    path.write_text(TINY.replace("[foxtrot]", "[foxtrot, juliet]"), encoding="utf-8")
    os.utime(path, ns=(first_ns := path.stat().st_mtime_ns + 10**9, first_ns))
    assert RiskScorer(load_lexicon(path), model=None).score("juliet").is_high


# ---- scoring --------------------------------------------------------------------------------------

@pytest.mark.parametrize("word, score, level", [
    ("alpha", 9, "none"), ("bravo", 10, "low"), ("charlie", 19, "low"),
    ("delta", 20, "medium"), ("echo", 29, "medium"), ("foxtrot", 30, "high"),
])
def test_levels_follow_the_thresholds_in_the_file(tmp_path, word, score, level):
    a = RiskScorer(load_lexicon(write(tmp_path, "tiny.yaml", TINY)), model=None).score(f"so {word} today")
    assert (a.score, a.level, a.is_high) == (score, level, level == "high")


def test_negated_hits_are_capped_below_high(tmp_path):
    a = RiskScorer(load_lexicon(write(tmp_path, "tiny.yaml", TINY)), model=None).score("not going to foxtrot")
    assert a.score == 15 and a.matches[0].negated


def test_empty_and_none_text(scorer):
    for text in ("", None, "   ", "😀😀"):
        a = scorer.score(text)
        assert (a.score, a.level, a.matches, a.reasons) == (0, "none", (), ())
    with pytest.raises(TypeError):
        scorer.score(42)


def test_to_dict_is_json_safe(scorer):
    a = scorer.score("I’m not gonna kill myself but my dad hits me 😭 tonight")
    d = json.loads(json.dumps(a.to_dict()))
    assert set(d) == {"score", "level", "categories", "reasons", "matches", "model_probability"}
    assert d["model_probability"] == round(a.model_probability, 4) and 0 <= d["model_probability"] <= 1
    assert set(RiskScorer(load_lexicon(), model=None).score("hi").to_dict()) == {
        "score", "level", "categories", "reasons", "matches"}  # without a model: the old keys only
    assert d["score"] == a.score and d["level"] == a.level
    assert d["categories"] == list(a.categories)
    assert d["matches"] and all(set(m) == {"category", "label", "start", "end", "negated"} for m in d["matches"])
    assert any(m["negated"] for m in d["matches"])


def test_score_text_uses_the_packaged_lexicon():
    a = score_text("i wanna kms tonight")
    assert isinstance(a, RiskAssessment) and isinstance(a.matches[0], RiskMatch)
    assert a == RiskScorer(load_lexicon()).score("i wanna kms tonight")


# ---- data sets ------------------------------------------------------------------------------------

def _rows(name):
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _precision_recall(scorer, rows):
    tp = fp = fn = 0
    wrong = []
    for row in rows:
        predicted = scorer.score(row["text"]).is_high
        tp += predicted and row["high_risk"]
        fp += predicted and not row["high_risk"]
        fn += row["high_risk"] and not predicted
        if predicted != row["high_risk"]:
            wrong.append(row["id"])
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, wrong


def test_dev_set(scorer):
    rows = _rows("risk_dev.jsonl")
    assert len(rows) >= 120 and {r["high_risk"] for r in rows} == {True, False}
    precision, recall, wrong = _precision_recall(scorer, rows)
    print(f"\ndev set: n={len(rows)} precision={precision:.3f} recall={recall:.3f} wrong={wrong}")
    assert recall >= 0.95 and precision >= 0.9, wrong
    missing = [r["id"] for r in rows
               if r["high_risk"] and not set(r["categories"]) <= set(scorer.score(r["text"]).categories)]
    assert not missing, f"expected categories not found for {missing}"


def test_holdout_set_reports_precision_recall(scorer, lexicon_only):
    """Second blind set, written without seeing the lexicon. Only REPORTS: the team lead decides
    on thresholds after seeing the single measurement; do not tune the lexicon against it.
    The shipped model IS trained on this file, so the combined numbers are not blind: the honest
    ones are the cross-author report in tests/unit/test_risk_model.py."""
    path = DATA / "risk_holdout.jsonl"
    if not path.exists():
        pytest.skip(f"blind holdout set {path} is missing")
    rows = _rows("risk_holdout.jsonl")
    precision, recall, wrong = _precision_recall(lexicon_only, rows)
    print(f"\nholdout set, lexicon alone (blind): n={len(rows)} positives={sum(r['high_risk'] for r in rows)} "
          f"precision={precision:.3f} recall={recall:.3f} misclassified={wrong}")
    precision, recall, wrong = _precision_recall(scorer, rows)
    print(f"holdout set, lexicon + model (NOT blind: the model was trained on it): "
          f"precision={precision:.3f} recall={recall:.3f} misclassified={wrong}")


def test_eval_set_precision_recall(scorer):
    # production scorer (lexicon + model; the model was trained on this file too)
    path = DATA / "risk_eval.jsonl"
    if not path.exists():
        pytest.skip(f"held-out evaluation set {path} is missing")
    rows = _rows("risk_eval.jsonl")
    precision, recall, wrong = _precision_recall(scorer, rows)
    print(f"\nheld-out eval set: n={len(rows)} precision={precision:.3f} recall={recall:.3f} "
          f"misclassified={wrong}")
    assert recall >= 0.95, f"recall {recall:.3f} < 0.95; misclassified: {wrong}"
    assert precision >= 0.8, f"precision {precision:.3f} < 0.8; misclassified: {wrong}"
