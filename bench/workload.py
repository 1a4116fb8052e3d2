"""What the benchmark sends: texters' numbers, realistic SMS bodies, signed inbound webhooks.

Every body ends with " #<seq>" so a console event can be matched to the webhook that caused it.
"""
from __future__ import annotations

import random

from bench.bench_risk import MESSAGES  # ~160-character texts: ordinary, risky, emoji
from tests.support.texting import inbound_params

INBOUND_PATH = "/sms/inbound"


def texter_number(i: int) -> str:
    return f"+1555{2_000_000 + i:07d}"


def body(seq: int) -> str:
    return f"{MESSAGES[seq % len(MESSAGES)]} #{seq}"


def seq_of(text: str | None) -> int | None:
    if not text:
        return None
    _, sep, tail = text.rpartition(" #")
    return int(tail) if sep and tail.isdigit() else None


def inbound_specs(account_sid: str, texters: list[int], first_seq: int, n: int,
                  pick: str = "round_robin", seed: int = 5) -> list[tuple[str, dict]]:
    """n webhooks from the given texters (round robin, or uniformly at random), seq numbers first_seq..."""
    rng = random.Random(seed + first_seq)
    specs = []
    for k in range(n):
        t = texters[k % len(texters)] if pick == "round_robin" else rng.choice(texters)
        specs.append((INBOUND_PATH, inbound_params(account_sid, texter_number(t), body(first_seq + k))))
    return specs


class Seq:
    """Sequence numbers unique over a whole run (they also make every body distinct)."""

    def __init__(self):
        self.next = 0

    def take(self, n: int) -> int:
        first, self.next = self.next, self.next + n
        return first
