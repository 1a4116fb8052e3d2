"""The waiting queue: a Redis sorted set ordered by priority, then by how long a texter has waited.

SQL holds the state of record (conversation.status); Redis holds the order and decides races.
"""
from __future__ import annotations

import time
from datetime import datetime

from textline.redis_store import get_redis, key
from textline.wellbeing import pauses, tallies

QUEUE = key("queue")
# Bumped in the same atomic step as every change to QUEUE, so consoles apply the changes they are sent
# (one row at a time, textline/texting/queue_sync.py) in Redis's order and notice one they missed. A
# missing key (Redis lost its data) starts again from the clock in microseconds, above any number it
# reached before, so consoles see a gap and ask for the whole queue rather than ignore what follows.
SEQ = key("queue_seq")
_SEQ_NEXT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])
"""
PRIORITY_MAX = 100
# Score = (100 - priority) * 1e13 + arrival in ms: lower score first, so higher priority first,
# then earlier arrival. 1e13 ms is ~300 years, so the arrival part never spills into priority.
_PRIORITY_STEP = 10**13

# Atomic claim: the conversation must still be queued, the volunteer not pausing (their pause key,
# textline/wellbeing/pauses.py) and under capacity. Returns {status, seq}: 1 claimed (with the queue's
# new SEQ), 0 gone (someone else won / it closed), -1 at capacity, -2 paused. A short-lived marker tells restore() that SQL may still say
# "waiting" because the claim's commit is in flight. A claim counts in the volunteer's shift tally
# (textline/wellbeing/tallies.py) in the same step.
_CLAIM = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then return {0, 0} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {-2, 0} end
local cap = tonumber(ARGV[2])
if cap > 0 and redis.call('SCARD', KEYS[2]) >= cap then return {-1, 0} end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
redis.call('HINCRBY', KEYS[5], 'conversations', 1)
redis.call('EXPIRE', KEYS[5], ARGV[4])
if redis.call('EXISTS', KEYS[6]) == 0 then redis.call('SET', KEYS[6], ARGV[5]) end
return {1, redis.call('INCR', KEYS[6])}
"""
CLAIMED, GONE, AT_CAPACITY, PAUSED = 1, 0, -1, -2
CLAIM_MARKER_SECONDS = 60  # far longer than a claim's SQL commit takes

# Put back a conversation SQL says is waiting, unless it was just claimed. LT: add it if missing, or
# move it up if SQL knows a higher priority, but never move it down (Redis may know a newer, higher one).
_RESTORE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('ZADD', KEYS[1], 'LT', 'CH', ARGV[2], ARGV[1])
"""


def load_key(volunteer_id: int) -> str:
    return key("load", volunteer_id)


def claimed_key(conversation_id: int) -> str:
    return key("claimed", conversation_id)


def score(priority: int, queued_at: datetime) -> float:
    priority = max(0, min(PRIORITY_MAX, int(priority)))
    return (PRIORITY_MAX - priority) * _PRIORITY_STEP + int(queued_at.timestamp() * 1000)


def _seq_start() -> int:
    return time.time_ns() // 1000


_ENQUEUE = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[3]) end
return redis.call('INCR', KEYS[2])
"""
_REMOVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[2]) end
return redis.call('INCR', KEYS[2])
"""


def enqueue(conversation_id: int, priority: int, queued_at: datetime) -> int:
    """Add or move a conversation; returns the queue's SEQ for this change."""
    return int(get_redis().eval(_ENQUEUE, 2, QUEUE, SEQ, str(conversation_id), score(priority, queued_at),
                                _seq_start()))


def remove(conversation_id: int) -> int:
    """Take a conversation out of the queue; returns the queue's SEQ for this change."""
    return int(get_redis().eval(_REMOVE, 2, QUEUE, SEQ, str(conversation_id), _seq_start()))


def bump() -> int:
    """A change consoles are sent as the whole queue (a repair): a new SEQ, so a console that applies
    rows one by one and missed the whole queue notices the gap."""
    return int(get_redis().eval(_SEQ_NEXT, 1, SEQ, _seq_start()))


def claim(conversation_id: int, volunteer_id: int, capacity: int) -> tuple[int, int]:
    """Returns (status, seq): seq is the queue's SEQ for the change when claimed, else 0."""
    r = get_redis()
    status, seq = r.eval(_CLAIM, 6, QUEUE, load_key(volunteer_id), claimed_key(conversation_id),
                         pauses.pause_key(volunteer_id), tallies.tally_key(volunteer_id), SEQ,
                         str(conversation_id), int(capacity), CLAIM_MARKER_SECONDS, tallies.KEEP_SECONDS,
                         _seq_start())
    return int(status), int(seq)


def release(conversation_id: int, volunteer_id: int | None) -> None:
    """A volunteer stops holding a conversation (ended, transferred, or handed back)."""
    if volunteer_id is not None:
        get_redis().srem(load_key(volunteer_id), str(conversation_id))


def hold(conversation_id: int, volunteer_id: int) -> None:
    """Count a conversation against a volunteer without going through the queue (transfer, take-over)."""
    get_redis().sadd(load_key(volunteer_id), str(conversation_id))


def ordered_ids(limit: int = 500) -> list[int]:
    return [int(m) for m in get_redis().zrange(QUEUE, 0, limit - 1)]


def ordered(limit: int = 500) -> tuple[int, list[tuple[int, int]]]:
    """(SEQ, [(id, score)...] in order), read in one step: the queue exactly as of that SEQ."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(SEQ)
    pipe.zrange(QUEUE, 0, limit - 1, withscores=True)
    seq, members = pipe.execute()
    return int(seq or 0), [(int(m), int(s)) for m, s in members]


def length() -> int:
    return int(get_redis().zcard(QUEUE))


def rebuild(waiting: list[tuple[int, int, datetime]], active: list[tuple[int, int]]) -> None:
    """Replace Redis state with SQL's: waiting = (id, priority, queued_at), active = (id, volunteer_id)."""
    r = get_redis()
    old_loads = list(r.scan_iter(match=load_key("*")))
    pipe = r.pipeline(transaction=True)
    pipe.delete(QUEUE, *old_loads)
    if waiting:
        pipe.zadd(QUEUE, {str(cid): score(p, at) for cid, p, at in waiting})
    for cid, vid in active:
        pipe.sadd(load_key(vid), str(cid))
    pipe.execute()


def held() -> dict[int, set[int]]:
    """Every volunteer's load set: volunteer id -> conversation ids."""
    r = get_redis()
    out = {}
    for name in r.scan_iter(match=load_key("*")):
        out[int(name.rsplit(":", 1)[1])] = {int(m) for m in r.smembers(name)}
    return out


def restore(waiting: list[tuple[int, int, datetime]], active: list[tuple[int, int]]) -> int:
    """Add what SQL has and Redis lacks (or raise a priority Redis missed), never removing or lowering
    anything, so it is safe beside live claims, unlike rebuild(). Returns how many entries changed."""
    r = get_redis()
    added = 0
    for cid, priority, queued_at in waiting:
        added += int(r.eval(_RESTORE, 2, QUEUE, claimed_key(cid), str(cid), score(priority, queued_at)))
    if active:
        pipe = r.pipeline(transaction=False)
        for cid, vid in active:
            pipe.sadd(load_key(vid), str(cid))
        added += sum(pipe.execute())
    return added


def forget(conversation_ids: set[int], loads: dict[int, set[int]]) -> int:
    """Drop ended conversations from the queue and from every load set. Returns how many went."""
    if not conversation_ids:
        return 0
    r = get_redis()
    pipe = r.pipeline(transaction=False)
    pipe.zrem(QUEUE, *map(str, conversation_ids))
    for vid, cids in loads.items():
        stale = cids & conversation_ids
        if stale:
            pipe.srem(load_key(vid), *map(str, stale))
    return sum(pipe.execute())


# Atomic hand-over of a held conversation (textline/console/transfer.py): the new volunteer must be under
# capacity, checked and counted in one step, as a claim is. Returns 1 moved, -1 at capacity.
_TRANSFER = """
local cap = tonumber(ARGV[2])
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 and cap > 0 and redis.call('SCARD', KEYS[2]) >= cap then
  return -1
end
if KEYS[1] ~= KEYS[2] then redis.call('SREM', KEYS[1], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
MOVED = 1


def transfer(conversation_id: int, from_volunteer_id: int | None, to_volunteer_id: int, capacity: int) -> int:
    r = get_redis()
    source = load_key(from_volunteer_id) if from_volunteer_id is not None else load_key(to_volunteer_id)
    return int(r.eval(_TRANSFER, 2, source, load_key(to_volunteer_id), str(conversation_id), int(capacity)))


def loads(volunteer_ids: list[int]) -> dict[int, int]:
    """How many conversations each volunteer holds now (their load sets' sizes)."""
    if not volunteer_ids:
        return {}
    pipe = get_redis().pipeline(transaction=False)
    for vid in volunteer_ids:
        pipe.scard(load_key(vid))
    return dict(zip(volunteer_ids, map(int, pipe.execute())))
