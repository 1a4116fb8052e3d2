"""Items 3 and 4: webhook -> volunteer console, and volunteer reply -> Twilio's REST endpoint.

Inbound: the clock starts when a webhook was due to be POSTed (open loop) and stops when the
`message` event reaches the console of the volunteer who holds the conversation.
Outbound: it starts when the console emits `reply` and stops when the fake Twilio stores the
message. The fake pushes every created message onto a Redis list per number; Redis keyspace
notifications tell the benchmark the moment that happens, without touching the app.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict

from bench.procstat import CpuMeter
from bench.stats import cpu_fields, latency_summary, summarise_step
from bench.workload import inbound_specs, texter_number
from tests.support.servers import wait_until


def inbound_to_console(stack, gen, consoles, volunteers: int, rate: float, duration_s: float, seq,
                       settle_s: float = 3.0) -> dict:
    """Texters 0..volunteers-1 each hold a conversation claimed by the console of the same index."""
    n = max(10, int(rate * duration_s))
    first = seq.take(n)
    specs = inbound_specs(stack.account_sid, list(range(volunteers)), first, n)
    consoles.record()
    meter = CpuMeter(stack.cpu_groups() | {"consoles": [consoles.pid], "loadgen": [gen.pid]}).start()
    result = gen.run(specs, rate, stack.signer())
    cpu = meter.stop()
    time.sleep(settle_s)  # stragglers
    received = consoles.collect()
    to_volunteer, to_supervisor = {}, {}
    for s, at, idx in received:
        target = to_volunteer if idx < volunteers else to_supervisor
        target.setdefault(s, at)
    vol, sup, missing = [], [], 0
    for k in range(n):
        s, due, ok = first + k, result.intended[k], result.status[k] == 200
        if s in to_volunteer:
            vol.append(to_volunteer[s] - due)
        elif ok:
            missing += 1
        if s in to_supervisor:
            sup.append(to_supervisor[s] - due)
    webhook = summarise_step(result, cpu)
    return {"offered_rps": rate, "messages": n, "achieved_rps": webhook["achieved_rps"],
            "webhook_failed": webhook["failed"], "webhook_p99_ms": webhook["p99_ms"],
            "to_volunteer": latency_summary(vol), "to_supervisor": latency_summary(sup),
            "missing_at_volunteer": missing, "webhook": webhook}


class _FakeTwilioWatch:
    """Stamps each message the fake Twilio stores, by destination number (Redis keyspace events)."""

    PATTERN = "__keyspace@0__:tl:fake:to:*"

    def __init__(self, r):
        self.r = r
        self.seen: dict[str, list[float]] = defaultdict(list)
        self.count = 0
        r.config_set("notify-keyspace-events", "Kl")
        self.pubsub = r.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe(self.PATTERN)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        prefix = len(self.PATTERN) - 1
        while not self._stop.is_set():
            msg = self.pubsub.get_message(timeout=0.2)
            if msg and msg["data"] == "lpush":
                self.seen[msg["channel"][prefix:]].append(time.monotonic())
                self.count += 1

    def close(self):
        self._stop.set()
        self.thread.join(5)
        self.pubsub.close()
        self.r.config_set("notify-keyspace-events", "")


def reply_to_twilio(stack, consoles, conv_of: dict[int, int], rate: float, duration_s: float, seq) -> dict:
    """Volunteers reply in their own conversations, round robin, `rate` replies per second in all."""
    volunteers = len(conv_of)
    n = max(5, int(rate * duration_s))
    first = seq.take(n)
    schedule = [(k / rate, k % volunteers, conv_of[k % volunteers], f"I'm here with you. #{first + k}",
                 f"bench-{first + k}") for k in range(n)]
    number_of = {conv_of[i]: texter_number(i) for i in conv_of}
    watch = _FakeTwilioWatch(stack.redis())
    try:
        meter = CpuMeter(stack.cpu_groups() | {"consoles": [consoles.pid]}).start()
        sent = consoles.replies(schedule)
        ok = sum(1 for *_, good in sent if good)
        try:
            wait_until(lambda: watch.count >= ok, timeout=60, what="every reply to reach the fake Twilio")
        except TimeoutError:
            pass  # counted as missing below
        cpu = meter.stop()
    finally:
        watch.close()
    by_conv = defaultdict(list)
    for s, cid, t_sent, t_ack, good in sorted(sent, key=lambda x: x[2]):
        if good:
            by_conv[cid].append((t_sent, t_ack))
    to_twilio, acks, missing = [], [], 0
    for cid, items in by_conv.items():
        stamps = watch.seen.get(number_of[cid], [])
        for j, (t_sent, t_ack) in enumerate(items):  # one reply in flight per conversation at a time
            acks.append(t_ack - t_sent)
            if j < len(stamps):
                to_twilio.append(stamps[j] - t_sent)
            else:
                missing += 1
    return {"offered_rps": rate, "replies": n, "refused": n - ok, "missing_at_twilio": missing,
            "to_twilio": latency_summary(to_twilio), "socket_ack": latency_summary(acks),
            **cpu_fields(cpu, ok)}
