"""Tests for textline.safety.risk.model (pure-Python TF-IDF + logistic regression), its training script
(scripts/train_risk_model.py) and how textline.safety.risk combines it with the lexicon.

The reporting tests print the cross-author validation table (run pytest with -s to see it) and the
false-alarm rate on ordinary, non-crisis texts."""
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from textline.safety.risk import MODEL, RiskScorer, lexicon_overrules_model, load_lexicon, score_text
from textline.safety.risk.model import DEFAULT_MODEL, ModelError, RiskModel, load_model, model_from_dict

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
LABELLED = [DATA / "risk_dev.jsonl", DATA / "risk_eval.jsonl", DATA / "risk_holdout.jsonl"]


def _train_module():
    spec = importlib.util.spec_from_file_location("train_risk_model", ROOT / "scripts" / "train_risk_model.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def trainer():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install -e '.[test]')")
    return _train_module()


@pytest.fixture(scope="module")
def rows(trainer):
    return {p.name: trainer.load_rows(p) for p in LABELLED}


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def _toy_model(features: dict, intercept: float = -4.0, threshold: float = 0.5) -> RiskModel:
    """A hand-made model: word unigrams only, each [idf, coefficient]."""
    return model_from_dict({
        "format": "textline-risk-model", "version": 1, "intercept": intercept, "threshold": threshold,
        "vectorizers": [{"name": "word", "analyzer": "word", "ngram_range": [1, 1], "lowercase": True,
                         "sublinear_tf": True, "norm": "l2", "token_pattern": r"(?u)\b\w\w+\b",
                         "features": features}]})


# ---- parity with scikit-learn ---------------------------------------------------------------------

EDGE_TEXTS = [
    "", " ", "a", "x y z", "😭😭😭", "İstanbul İİ ΣΑΣ straße ǅ", "tabs\tand\nnew  lines\u00a0nbsp\u2003em",
    "blue blue blue BLUE blue.", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k!ll mys3lf", "don't won’t",
    "my bro is on the bathroom floor and his lips look blue", "x" * 400, "ab cd ef gh " * 30,
    "_under_score_ snake_case 123 4567 3am 2nite", "\u200bzero\u200bwidth", "mixed ESPAÑOL y english jaja",
]


@pytest.mark.parametrize("variant", ["w12-c4", "w12-c35", "w12"])
def test_pure_python_matches_sklearn_predict_proba(trainer, rows, variant):
    train_rows = rows["risk_dev.jsonl"] + rows["risk_eval.jsonl"]
    pipe = trainer.train(trainer.VARIANTS[variant], train_rows)
    model = model_from_dict(json.loads(trainer.dumps(trainer.export_model(pipe, 0.5))))
    texts = [r["text"] for r in rows["risk_holdout.jsonl"]] + EDGE_TEXTS
    texts += [a + " " + b for a, b in zip(texts[:100], texts[100:200])]  # longer, with repeats
    assert len(texts) >= 300
    expected = pipe.predict_proba(texts)[:, 1]
    model.clear_cache()
    for text, p in zip(texts, expected):
        assert abs(model.probability(text) - p) < 1e-6, text
    for text, p in zip(texts, expected):  # and again with the per-word cache warm
        assert abs(model.probability(text) - p) < 1e-6, text


def test_shipped_model_loads_and_is_trained_on_the_current_files():
    model = load_model()
    assert model.n_features > 1000 and 0 < model.threshold < 1
    meta = model.metadata
    import hashlib
    for info in meta["trained_on"]:
        path = DATA / info["file"]
        assert path.exists(), f"{path} (which the shipped model was trained on) is missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], (
            f"{path} changed since the model was trained: run python scripts/train_risk_model.py")
    assert {"risk_dev.jsonl", "risk_eval.jsonl", "risk_holdout.jsonl"} <= {i["file"] for i in meta["trained_on"]}


def test_the_web_process_imports_no_numpy_or_sklearn():
    code = ("import sys, textline.safety.risk as r; r.score_text('my bro is on the bathroom floor and his lips look blue');"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'scipy', 'sklearn'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# ---- explanation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "My bro is on the BATHROOM floor and his lips look blue!!",
    "İİ wrote letters for my mom and my sister. just in case 😭",
    "i gave away my switch and all my hoodies today. wont need them",
    "blue, blue; BLUE... blue",
    "tabs\tand\nnew  lines\u00a0nbsp\u2003em\x1cfs ǅ İstanbul ΣΑΣ",
])
def test_shares_add_up_and_spans_point_into_the_original_text(text):
    model = load_model()
    z, shares = model.shares(text)
    assert math.isclose(z, model.logit(text), abs_tol=1e-9)
    assert math.isclose(z, model.intercept + sum(w for w, _ in shares.values()), abs_tol=1e-9)
    for ngram, (_, spans) in shares.items():
        for start, end in spans:
            assert 0 <= start < end <= len(text)
            piece = text[start:end].lower()
            if " " in ngram:  # a word bigram: its tokens, whatever is between them
                first, last = ngram.split(" ")[0], ngram.split(" ")[-1]
                assert piece.startswith(first) and piece.endswith(last), (ngram, piece)
            else:
                assert piece == ngram, (ngram, piece)


def test_explain_lists_content_words_strongest_first():
    model = load_model()
    text = "my bro is on the bathroom floor and his lips look blue"
    p, evidence = model.explain(text)
    assert math.isclose(p, model.probability(text), abs_tol=1e-12)
    assert evidence and all(e.weight > 0 for e in evidence)
    assert [e.weight for e in evidence] == sorted((e.weight for e in evidence), reverse=True)
    assert "bathroom" in {e.ngram for e in evidence}
    assert not {e.ngram for e in evidence} & {"and", "his", "the", "on the"}  # function words not shown
    for e in evidence:
        assert all(text[s:t].lower() == e.ngram or " " in e.ngram for s, t in e.spans)


# ---- combination rule -----------------------------------------------------------------------------

def test_model_only_flag_is_review_level_with_a_model_reason_and_offsets(lexicon):
    s = RiskScorer(lexicon, _toy_model({"lips": [1.0, 6.0], "blue": [1.0, 6.0]}))
    text = "my bro is on the floor and his LIPS look Blue"
    assert RiskScorer(lexicon, model=None).score(text).level == "none"
    a = s.score(text)
    # The model alone flags for review (up the queue, shown to people), never high (no automatic page).
    assert a.level == "medium" and not a.is_high and a.model_probability > 0.9
    assert a.categories == ()  # the model names no risk category
    assert a.reasons[-1].startswith(f"reads like texts that needed an adult (model {a.model_probability:.2f}): ")
    assert '"LIPS"' in a.reasons[-1] and '"Blue"' in a.reasons[-1]
    model_matches = [m for m in a.matches if m.category == MODEL]
    assert sorted(text[m.start:m.end] for m in model_matches) == ["Blue", "LIPS"]
    assert all(m.label == "model: " + text[m.start:m.end].lower() for m in model_matches)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["level"] == "medium" and d["model_probability"] == round(a.model_probability, 4)
    assert {m["category"] for m in d["matches"]} == {MODEL}


def test_adjacent_evidence_is_quoted_as_one_phrase(lexicon):
    s = RiskScorer(lexicon, _toy_model({"lips": [1.0, 5.0], "look": [1.0, 3.0], "blue": [1.0, 5.0]}))
    a = s.score("his lips look blue")
    assert a.reasons[-1].endswith(': "lips look blue"')
    assert [(m.label, m.start, m.end) for m in a.matches if m.category == MODEL] == [("model: lips look blue", 4, 18)]


def test_score_mapping_threshold_lands_on_medium_and_one_just_under_high(lexicon):
    medium, high = lexicon.thresholds["medium"], lexicon.thresholds["high"]
    at_threshold = RiskScorer(lexicon, _toy_model({"zzz": [1.0, 1.0]}, intercept=0.0, threshold=0.5))
    a = at_threshold.score("hello there")  # no feature: p = sigmoid(0) = 0.5 = threshold
    assert a.model_probability == 0.5 and a.score == medium and a.level == "medium"
    certain = RiskScorer(lexicon, _toy_model({"hello": [1.0, 40.0]}, threshold=0.5))
    assert certain.score("hello there").score == high - 1 and not certain.score("hello there").is_high
    halfway = RiskScorer(lexicon, _toy_model({"zzz": [1.0, 1.0]}, intercept=math.log(0.75 / 0.25), threshold=0.5))
    assert halfway.score("hello").score == round(medium + 0.5 * (high - 1 - medium))
    below = RiskScorer(lexicon, _toy_model({"zzz": [1.0, 1.0]}, intercept=-0.01, threshold=0.5))
    b = below.score("hello there")
    assert b.level == "none" and b.reasons == () and b.model_probability < 0.5


def test_priority_is_the_higher_of_lexicon_and_model(lexicon):
    s = RiskScorer(lexicon, _toy_model({"zzz": [1.0, 1.0]}, intercept=0.0, threshold=0.5))  # model score 40
    plain = RiskScorer(lexicon, model=None).score("i wanna kms tonight")
    a = s.score("i wanna kms tonight")
    assert plain.score == 100 and a.score == 100 and a.is_high
    assert a.reasons[:len(plain.reasons)] == plain.reasons  # lexicon reasons first, unchanged
    assert a.categories == plain.categories


@pytest.mark.parametrize("text", [
    "i would never kill myself",          # negated
    "im not going to kill myself tonight",  # negated, with a live danger word
    "i tried to kill myself two years ago",  # past
    "tripped on stage in front of everyone, i want to die lmao",  # hyperbole
    "i want to die my hair pink",         # a figure of speech the lexicon set aside (`unless`)
    "i cut myself off from everyone",     # an exclusion
])
def test_lexicon_readings_of_not_now_are_not_overruled(lexicon, text):
    s = RiskScorer(lexicon, _toy_model({w: [1.0, 20.0] for w in text.lower().split()}))
    a = s.score(text)
    assert a.model_probability > 0.99
    assert not a.is_high, a.reasons
    assert lexicon_overrules_model(RiskScorer(lexicon, model=None).score(text))
    assert not any(m.category == MODEL for m in a.matches)


def test_a_live_hit_or_a_danger_word_alone_does_not_block_the_model(lexicon):
    s = RiskScorer(lexicon, _toy_model({"bridge": [1.0, 20.0]}))
    for text in ("im at the bridge tonight", "im not ok, im at the bridge"):
        assert not lexicon_overrules_model(RiskScorer(lexicon, model=None).score(text))
        assert any(m.category == MODEL for m in s.score(text).matches)


@pytest.mark.parametrize("text", [
    "this homework is killing me", "i could kill for pizza", "my phone died", "got killed in fortnite",
    "lol im dead", "i almost died laughing", "overdosed on coffee lol", "i'm dying to see that movie",
    "i would never kill myself", "i used to cut but im doing way better now",
])
def test_hard_negatives_stay_below_high_with_the_packaged_model(text):
    a = score_text(text)
    assert not a.is_high, (a.model_probability, a.reasons)


@pytest.mark.parametrize("text", [
    "my bro is on the bathroom floor and his lips look blue",
    "wrote letters for my mom and my sister. just in case",
])
def test_indirect_disclosures_are_flagged_for_review_with_the_packaged_model(text):
    a = score_text(text)
    assert a.level == "medium" and any(r.startswith("reads like texts that needed an adult") for r in a.reasons)
    assert any(m.category == MODEL for m in a.matches)


def test_scorer_without_a_model_is_the_lexicon_alone(lexicon):
    s = RiskScorer(lexicon, model=None)
    a = s.score("my bro is on the bathroom floor and his lips look blue")
    assert a.model_probability is None and "model_probability" not in a.to_dict()
    with pytest.raises(TypeError):
        RiskScorer(lexicon, model="risk_model.json")


# ---- loading --------------------------------------------------------------------------------------

GOOD = {"format": "textline-risk-model", "version": 1, "intercept": -1.0, "threshold": 0.4,
        "vectorizers": [{"name": "word", "analyzer": "word", "ngram_range": [1, 2], "lowercase": True,
                         "sublinear_tf": True, "norm": "l2", "token_pattern": r"(?u)\b\w\w+\b",
                         "features": {"blue": [2.0, 1.5]}}]}


def _broken(**changes):
    data = json.loads(json.dumps(GOOD))
    vec = changes.pop("vec", {})
    data["vectorizers"][0].update(vec)
    data.update(changes)
    return data


@pytest.mark.parametrize("data, problem", [
    ([1, 2], "top level must be a JSON object"),
    (_broken(format="other"), "not a Textline risk model"),
    (_broken(version=2), "unsupported model version 2"),
    ({k: v for k, v in GOOD.items() if k != "intercept"}, "missing 'intercept'"),
    (_broken(threshold=1.5), "threshold must be a number between 0 and 1"),
    (_broken(intercept="x"), "intercept must be a finite number"),
    (_broken(vectorizers=[]), "vectorizers must be a non-empty list"),
    (_broken(vec={"analyzer": "char"}), "analyzer must be one of"),
    (_broken(vec={"ngram_range": [2, 1]}), "ngram_range must be [min, max]"),
    (_broken(vec={"norm": "l1"}), "only norm 'l2' is supported"),
    (_broken(vec={"sublinear_tf": "yes"}), "sublinear_tf must be true or false"),
    (_broken(vec={"token_pattern": "(unclosed"}), "bad token_pattern"),
    (_broken(vec={"features": {"blue": [0, 1.0]}}), "feature 'blue': must map to [idf > 0, coefficient]"),
    (_broken(vec={"features": {"blue": [1.0]}}), "feature 'blue'"),
    (_broken(vec={"features": {}}), "features must be a non-empty object"),
])
def test_malformed_model_gives_a_clear_error(tmp_path, data, problem):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError) as err:
        load_model(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_unreadable_model_files_give_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="nope.json: cannot read model"):
        load_model(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "textline-risk-model",', encoding="utf-8")
    with pytest.raises(ModelError, match=r"bad\.json: invalid JSON"):
        load_model(bad)
    assert load_model() is load_model(DEFAULT_MODEL)  # loaded once while unchanged


# ---- training -------------------------------------------------------------------------------------

def test_training_is_deterministic(trainer, tmp_path):
    files = []
    for src in LABELLED[:2]:  # a small set: 20 + 20 rows from each of two authors
        lines = [line for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines = [x for x in lines if '"high_risk": true' in x][:20] + [x for x in lines if '"high_risk": false' in x][:20]
        dst = tmp_path / src.name
        dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(dst)
    first = trainer.dumps(trainer.build(files, "w12-c4", quiet=True))
    second = trainer.dumps(trainer.build(files, "w12-c4", quiet=True))
    assert first == second
    data = json.loads(first)
    assert list(data) == sorted(data)
    feats = data["vectorizers"][0]["features"]
    assert list(feats) == sorted(feats)
    assert all(len(repr(x).split(".")[-1]) <= 9 for pair in feats.values() for x in pair if "e" not in repr(x))
    model_from_dict(data)  # and it loads


def test_bad_training_data_gives_a_clear_error(trainer, tmp_path):
    path = tmp_path / "ours.jsonl"
    path.write_text('{"text": "ok", "high_risk": true}\n{"text": "hm", "high_risk": "yes"}\n', encoding="utf-8")
    with pytest.raises(trainer.DataError, match=r"ours\.jsonl:2: \"high_risk\" must be true or false"):
        trainer.load_rows(path)


def test_admin_extra_file_becomes_a_fold_and_training_data(trainer, tmp_path):
    extra = tmp_path / "ours.jsonl"
    extra.write_text("\n".join(json.dumps({"text": t, "high_risk": y}) for t, y in [
        ("my bro is on the floor and his lips look blue", True),
        ("cant wake my sister up and shes barely breathing", True),
        ("this homework is killing me", False),
        ("my mom made tacos tonight", False)]) + "\n", encoding="utf-8")
    out = tmp_path / "model.json"
    assert trainer.main(["--extra", str(extra), "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "ours.jsonl" in data["metadata"]["cross_author"]
    assert [i["file"] for i in data["metadata"]["trained_on"]][-1] == "ours.jsonl"
    assert load_model(out).threshold == data["threshold"]


# ---- reports --------------------------------------------------------------------------------------

def test_cross_author_report(trainer, rows):
    """Prints lexicon alone / model alone / combined per held-out author (train on the others)."""
    model = load_model()
    variant = model.metadata["variant"]
    lex = trainer.lexicon_results(rows)
    oof = trainer.cross_author(trainer.VARIANTS[variant], rows)
    table = trainer.report(variant, oof, lex, model.threshold, model.min_tokens)
    chosen = trainer.choose_settings(oof, lex)[:2]
    print(f"shipped threshold {model.threshold} and min_tokens {model.min_tokens}; chosen again now {chosen}")
    import sklearn
    if sklearn.__version__ == model.metadata["sklearn_version"]:  # other versions may round differently
        assert chosen == (model.threshold, model.min_tokens)
        assert table == model.metadata["cross_author"]


# Ordinary texts a text line gets that need no adult: not from any labelled file, never trained on.
ORDINARY = """\
hey is this the text line? my friend gave me this number
can we talk? i just need someone to listen
my mom yelled at me again because i failed my math test
i broke up with my boyfriend and i cant stop crying
im stressed about finals, i have 3 tests tomorrow
my parents are getting divorced and i dont know how to feel
i think my best friend is mad at me and i dont know why
i have really bad anxiety before school every day
my dad is moving out this weekend
i got cut from the basketball team today
my sister took my charger again and my mom took her side
i feel really sad lately and i dont know why
im at my dads house this weekend and i miss my mom
my friend said something mean about me in the group chat
i cant sleep, too much on my mind
my grandma is in the hospital and im worried about her
i have no friends at my new school
my bf keeps texting other girls and i dont know what to do
i got into a fight with my brother about the xbox
my teacher embarrassed me in front of the whole class
school is so hard this year and i feel stupid
i miss my dog, he died last year
my parents keep fighting and its so loud
my mom found my vape and took my phone
thanks for talking to me last night it helped
i went to the party and my friends ditched me
im scared to tell my parents im gay
my coach is really hard on me and i hate practice now
i think i failed my driving test, i feel dumb
everyone at school is talking about me behind my back
i dont want to go to school tomorrow
my stepmom doesnt like me and my dad doesnt notice
my stepdad made pancakes this morning and it was actually nice
what are your hours? can i text after midnight
is this anonymous? will you tell my parents
i feel left out, my friends made plans without me again
my crush left me on read for two days
i keep comparing myself to girls on instagram
i hate how i look in my school photos
my dad forgot my birthday again
we moved and i have to start at a new school monday
i got a detention for being late and my mom is furious
how do i tell my friend i dont want to hang out anymore
i feel like nobody would notice if i stopped texting them
my older brother always gets everything and i get nothing
i failed my chem test and my parents are gonna be so disappointed
im really lonely on weekends
my friend keeps asking to copy my homework and i feel used
idk why im texting, i just feel off today
sorry for the long message, i just needed to vent""".splitlines()


def test_false_alarms_on_ordinary_texts_report():
    """REPORTS how many ordinary texts the production scorer sends to an adult. The labelled files
    are ~half high-risk and their negatives are mostly hard negatives (idioms, negations), so their
    precision says little about ordinary traffic, where most texts look like these."""
    lexicon_only = RiskScorer(load_lexicon(), model=None)
    highs = [(score_text(t).model_probability, t) for t in ORDINARY if score_text(t).is_high]
    lex_highs = [t for t in ORDINARY if lexicon_only.score(t).is_high]
    print(f"\nordinary texts raised to high: {len(highs)}/{len(ORDINARY)} with the model "
          f"({len(lex_highs)} by the lexicon alone); threshold {load_model().threshold}")
    for p, t in sorted(highs, reverse=True):
        print(f"  p={p:.2f}  {t}")
    for t in (0.5, 0.6, 0.7, 0.8):
        n = sum(1 for x in ORDINARY if score_text(x).model_probability >= t)
        print(f"  model p >= {t}: {n}/{len(ORDINARY)}")
