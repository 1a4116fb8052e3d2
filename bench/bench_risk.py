"""Micro-benchmark for textline.risk: microseconds per message on the webhook hot path.

    python bench/bench_risk.py [--n 20000]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from textline.risk import RiskScorer, load_lexicon  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000, help="messages per timing round")
    args = ap.parse_args()

    t0 = time.perf_counter()
    scorer = RiskScorer(load_lexicon())
    print(f"lexicon load + compile: {(time.perf_counter() - t0) * 1000:.1f} ms")
    score = scorer.score
    for m in MESSAGES:  # warm up (fold-table cache, regex caches)
        score(m)

    print(f"avg message length: {statistics.mean(len(m) for m in MESSAGES):.0f} chars")
    for m in MESSAGES:
        rounds = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(args.n // len(MESSAGES)):
                score(m)
            rounds.append((time.perf_counter() - t) / (args.n // len(MESSAGES)) * 1e6)
        a = score(m)
        print(f"{min(rounds):7.1f} us  {a.level:6} {m[:60]!r}")
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(args.n):
            score(MESSAGES[i % len(MESSAGES)])
        rounds.append((time.perf_counter() - t) / args.n * 1e6)
    print(f"mixed: {min(rounds):.1f} us/message (best of 5), {statistics.median(rounds):.1f} median")


if __name__ == "__main__":
    main()
