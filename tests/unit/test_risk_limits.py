"""A text's length cannot hold a web process up: only the first SCORED_CHARS characters are scored
(the whole body is stored), and scoring is linear in the text's length even without that cap.

Linearity is checked on adversarial inputs by the ratio of CPU time between n and 4n characters
(best of three): a linear scorer gives about 4, a quadratic one about 16. No absolute times."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.support.texting import inbound_params, post_signed
from textline.extensions import db
from textline.models import Message
from textline.safety.risk import score_text
from textline.safety.risk.scorer import SCORED_CHARS

RISK = "i have the pills and i want to kill myself tonight"


def test_the_cap_is_twilios_longest_text():
    assert SCORED_CHARS == 1600


def test_only_the_start_is_scored(scorer):
    filler = "so school was long today and the bus was late again. "
    padding = (filler * (SCORED_CHARS // len(filler) + 1))[:SCORED_CHARS]
    assert scorer.score(padding + RISK).level == "none"  # past the cap: not read
    early = scorer.score(RISK + " " + padding * 50)
    assert early.is_high and early == scorer.score((RISK + " " + padding * 50)[:SCORED_CHARS])
    assert all(m.end <= SCORED_CHARS for m in early.matches)


def test_a_two_megabyte_text_is_scored_as_its_start():
    huge = "pills " * 350_000  # 2.1 MB of a risk word
    assert score_text(huge) == score_text(huge[:SCORED_CHARS])


ADVERSARIAL = {
    "repeated risk words": "i want to kill myself ",
    "one risk word": "pills ",
    "repeated negations": "i dont want to die. ",
    "negation cue alone": "not ",
    "run of one letter": "a",
    "spaces": " ",
    "emoji": "\U0001f62d",
    "ordinary words": "hey so school was bad and i feel alone lol ",
}


def _cpu(fn, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        fn(text)
        best = min(best, time.process_time() - t)
    return max(best, 1e-4)  # below the clock's resolution: treat as a tenth of a millisecond


@pytest.mark.parametrize("unit", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_scoring_is_linear_in_the_length(scorer, lexicon_only, unit):
    n = 16_000
    short, long = (unit * (n // len(unit) + 1))[:n], (unit * (4 * n // len(unit) + 1))[:4 * n]
    for name, fn in (("lexicon", lexicon_only.score_uncapped), ("lexicon + model", scorer.score_uncapped)):
        fn(short)  # warm the model's word cache
        ratio = _cpu(fn, long) / _cpu(fn, short)
        assert ratio < 8, f"{name}: 4x the text took {ratio:.1f}x the CPU time (quadratic is ~16)"


def test_a_long_text_is_stored_whole_and_scored_on_its_start(live_app, app_ctx):
    body = "x" * 3000 + " " + RISK
    response = post_signed(live_app.base_url, "/sms/inbound",
                           inbound_params(live_app.account_sid, "+15550107777", body), live_app.auth_token)
    assert response.status_code == 200, response.text
    msg = db.session.scalar(select(Message).where(Message.direction == "in"))
    assert msg.body == body
    assert msg.risk["level"] == "none"
