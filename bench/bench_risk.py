"""Micro-benchmark for textline.safety.risk: microseconds per message on the webhook hot path.

    python bench/bench_risk.py [--n 20000]

Times the lexicon alone, the model alone (textline/safety/risk/model.py; its per-word cache warm, and
cold: emptied before every message) and both together as score_text() runs them, on the six
messages below and on 300 different ~160-character messages glued from the labelled texts in
tests/data (dev, eval, holdout). Best of 5 rounds; a busy machine reads slower.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from textline.safety.risk import RiskScorer, load_lexicon  # noqa: E402
from textline.safety.risk.model import load_model  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELLED = ("risk_dev.jsonl", "risk_eval.jsonl", "risk_holdout.jsonl")  # never the blind sets

# 160-character-ish SMS bodies: mostly ordinary, some risky, some with emoji and noise.
MESSAGES = [
    "hey so i dont really know what to say but school was awful today and my mom yelled again and "
    "i feel like nobody really gets it, can we talk for a bit? thanks",
    "omg my phone died in the middle of the group chat and now everyone thinks im ignoring them lol "
    "this homework is killing me tbh 😭😭 anyway how r u",
    "i cant do this anymore. i have the pills right here and i wanna kms tonight after everyone goes "
    "to sleep, nobody would even notice tbh im so tired",
    "my stepdad hit me again last night and said he'd kill me if i tell anyone. im scared to go home "
    "after school, what do i do???",
    "Hiiii!!! 😊😊 is this the text line?? my friend gave me this number, idk if im supposed to "
    "text here but i kinda need someone to talk to about stuff",
    "im not going to kill myself or anything, i just feel really alone since my best friend moved "
    "away and i cant stop crying at night. is that normal",
]


def varied_messages(k: int = 300, length: int = 160) -> list[str]:
    texts = []
    for name in LABELLED:
        if (DATA / name).exists():
            with open(DATA / name, encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f if line.strip()]
    return glued_messages(texts, k, length, seed=7)


def glued_messages(texts: list[str], k: int, length: int, seed: int) -> list[str]:
    """k deterministic SMS-sized messages (length characters) glued from the given texts."""
    if not texts:
        return []
    rng, out = random.Random(seed), []
    for _ in range(k):
        msg = ""
        while len(msg) < length:
            msg = (msg + " " + rng.choice(texts)).strip()
        out.append(msg[:length])
    return out


def best_us(fn, messages, n: int, rounds: int = 5, before=None) -> tuple[float, float]:
    """(best, median) microseconds per call over `rounds` rounds of about n calls."""
    reps = max(1, n // len(messages))
    results = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            for m in messages:
                if before is not None:
                    before()
                fn(m)
        results.append((time.perf_counter() - t) / (reps * len(messages)) * 1e6)
    return min(results), statistics.median(results)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000, help="messages per timing round")
    args = ap.parse_args()

    t0 = time.perf_counter()
    lexicon = load_lexicon()
    print(f"lexicon load + compile: {(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    model = load_model()
    print(f"model load: {(time.perf_counter() - t0) * 1000:.1f} ms ({model.n_features} features, "
          f"variant {model.metadata.get('variant')}, threshold {model.threshold})")
    lex_only = RiskScorer(lexicon, model=None)
    both = RiskScorer(lexicon, model)
    for m in MESSAGES:  # warm up (fold-table cache, regex caches, the model's word cache)
        both.score(m)

    print(f"avg message length: {statistics.mean(len(m) for m in MESSAGES):.0f} chars")
    print(f"{'lexicon':>8} {'both':>8}  level  p     message")
    for m in MESSAGES:
        lx, _ = best_us(lex_only.score, [m], args.n // len(MESSAGES))
        bt, _ = best_us(both.score, [m], args.n // len(MESSAGES))
        a = both.score(m)
        print(f"{lx:6.1f}us {bt:6.1f}us  {a.level:6} {a.model_probability:.2f}  {m[:60]!r}")

    varied = varied_messages()
    sets = [("the six above", MESSAGES)] + ([(f"{len(varied)} different ~160-char", varied)] if varied else [])
    for name, msgs in sets:
        print(f"\n{name} messages (us/message, best of 5 / median):")
        rows = [("lexicon alone", lex_only.score, None),
                ("model alone, cache warm", model.probability, None),
                ("model alone, cache cold", model.probability, model.clear_cache),
                ("lexicon + model (score_text)", both.score, None)]
        for label, fn, before in rows:
            for m in msgs:
                fn(m)
            best, median = best_us(fn, msgs, args.n, before=before)
            print(f"  {label:30} {best:7.1f} {median:7.1f}   ~{1e6 / best:,.0f}/s per core")


if __name__ == "__main__":
    main()
