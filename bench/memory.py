"""Item 6: memory per connected console and per queued conversation.

Web memory is the resident set of gunicorn's worker processes (not the master); Redis memory is
its own `used_memory`. Both are read before and after adding N of a thing, and divided by N. RSS
moves in allocator-sized jumps, so small N give noisy answers: the N used is reported with each.
"""
from __future__ import annotations

import statistics
import time

from bench import procstat
from bench.workload import inbound_specs
from tests.support.servers import wait_until
from textline.texting.queue import QUEUE


def _web_rss(stack, samples: int = 3) -> int:
    values = []
    for _ in range(samples):
        values.append(stack.web.rss())
        time.sleep(0.2)
    return int(statistics.median(values))


def _redis_used(stack) -> int:
    return int(stack.redis().info("memory")["used_memory"])


def per_console(stack, consoles) -> dict:
    """Connects the consoles (they must be disconnected) and measures what they cost the web processes:
    memory, and CPU and Redis traffic while connecting (each `hello` carries the whole queue)."""
    before = _web_rss(stack)
    redis_in = int(stack.redis().info("stats")["total_net_input_bytes"])
    cpu = procstat.CpuMeter({"web": stack.web.worker_pids()}).start()
    connected = consoles.connect()
    procstat.wait_quiet(stack.web.worker_pids())  # the listeners may still be decoding what was published
    used = cpu.stop()
    redis_in = int(stack.redis().info("stats")["total_net_input_bytes"]) - redis_in
    time.sleep(2)
    after = _web_rss(stack)
    n = connected["connected"]
    connected["web_cpu_ms_per_console"] = round(used["cpu_s"]["web"] * 1000 / max(1, n), 2)
    connected["redis_in_kb_per_console"] = round(redis_in / max(1, n) / 1024, 1)
    return {"consoles": n, "connect": connected, "web_rss_before_mb": round(before / 2**20, 1),
            "web_rss_after_mb": round(after / 2**20, 1),
            "web_kb_per_console": round((after - before) / max(1, n) / 1024, 1)}


def per_queued_conversation(stack, gen, first_texter: int, count: int, seq, rate: float = 50) -> dict:
    """`count` new texters each send a first message: `count` more conversations wait in the queue."""
    r = stack.redis()
    base_len = r.zcard(QUEUE)
    web_before, redis_before = _web_rss(stack), _redis_used(stack)
    queue_before = r.memory_usage(QUEUE) or 0
    specs = inbound_specs(stack.account_sid, list(range(first_texter, first_texter + count)), seq.take(count), count)
    t0 = time.monotonic()
    result = gen.run(specs, rate, stack.signer())
    wait_until(lambda: r.zcard(QUEUE) >= base_len + count, timeout=600, what="new conversations queued")
    wait_until(lambda: stack.outbound_in_flight() == 0, timeout=300, what="welcome texts sent")
    absorbed = time.monotonic() - t0
    web_after, redis_after = _web_rss(stack), _redis_used(stack)
    queue_after = r.memory_usage(QUEUE) or 0
    added = r.zcard(QUEUE) - base_len
    ok = sum(1 for i in range(len(result)) if result.status[i] == 200)
    return {"conversations": added, "webhooks_ok": ok, "queue_length_after": base_len + added,
            "queue_key_bytes_per_conversation": round((queue_after - queue_before) / max(1, added)),
            "redis_bytes_per_conversation": round((redis_after - redis_before) / max(1, added)),
            "web_kb_per_conversation": round((web_after - web_before) / max(1, added) / 1024, 2),
            "seconds_to_absorb": round(absorbed, 1),
            "note": "queue key = the sorted set alone; Redis total also holds Celery's messages and the fake "
                    "Twilio's copy of each welcome text (demo/test only)"}
