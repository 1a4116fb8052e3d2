"""The Redis queue: order by priority then age, atomic claims, capacity, rebuild from SQL."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from textline.extensions import db
from textline.models import Conversation, Texter
from textline.ops.cli import create_user
from textline.redis_store import get_redis
from textline.texting import conversations, queue, queue_sync
from textline.texting.conversations import ConversationError

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def test_order_is_priority_then_arrival():
    assert queue.score(90, T0 + timedelta(minutes=5)) < queue.score(10, T0)   # risk jumps the queue
    assert queue.score(10, T0) < queue.score(10, T0 + timedelta(seconds=1))  # then the longest wait
    assert queue.score(150, T0) == queue.score(100, T0)                       # clamped, never overflows


def test_queue_in_redis_orders_by_priority_then_age(app_ctx):
    queue.enqueue(1, 0, T0)
    queue.enqueue(2, 0, T0 + timedelta(seconds=30))
    queue.enqueue(3, 80, T0 + timedelta(minutes=2))
    queue.enqueue(4, 40, T0 + timedelta(minutes=1))
    assert queue.ordered_ids() == [3, 4, 1, 2]
    queue.enqueue(2, 95, T0 + timedelta(seconds=30))  # risk rose on a later message
    assert queue.ordered_ids() == [2, 3, 4, 1]


def test_racing_claims_have_exactly_one_winner(app_ctx):
    queue.enqueue(7, 0, T0)
    results, barrier = [], threading.Barrier(8)

    def racer(volunteer_id):
        with app_ctx.app_context():
            barrier.wait()
            results.append(queue.claim(7, volunteer_id, capacity=2)[0])

    threads = [threading.Thread(target=racer, args=(v,)) for v in range(1, 9)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == [0] * 7 + [1]
    assert queue.ordered_ids() == []


def test_every_change_to_the_queue_is_numbered_in_redis_order_and_a_lost_number_starts_above_the_old(app_ctx):
    first = queue.enqueue(7, 0, T0)
    moved = queue.enqueue(7, 90, T0)
    status, claimed = queue.claim(7, 42, capacity=2)
    assert status == queue.CLAIMED and first < moved < claimed
    assert queue.claim(7, 43, capacity=2) == (queue.GONE, 0)  # no change, no number
    assert queue.remove(8) == claimed + 1
    assert queue.ordered() == (claimed + 1, [])
    queue.get_redis().delete(queue.SEQ)  # Redis lost its data: consoles must see a gap, not old numbers
    assert queue.enqueue(9, 0, T0) > claimed + 1


def test_claim_respects_capacity(app_ctx):
    for cid in (1, 2, 3):
        queue.enqueue(cid, 0, T0 + timedelta(seconds=cid))
    assert queue.claim(1, 42, capacity=2)[0] == queue.CLAIMED
    assert queue.claim(2, 42, capacity=2)[0] == queue.CLAIMED
    assert queue.claim(3, 42, capacity=2)[0] == queue.AT_CAPACITY
    assert queue.ordered_ids() == [3]  # still waiting for someone else
    queue.release(1, 42)
    assert queue.claim(3, 42, capacity=2)[0] == queue.CLAIMED


def _waiting_conversation(n: int, priority=0, queued_at=T0) -> Conversation:
    texter = Texter(phone_hash=f"{n:064d}", alias=f"Texter {n:04d}")
    conv = Conversation(texter=texter, status="waiting", priority=priority, queued_at=queued_at,
                        risk_level="none", risk_reasons=[])
    db.session.add(conv)
    db.session.commit()
    return conv


def test_domain_claim_records_the_volunteer_and_refuses_the_loser(app_ctx):
    sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    alex = create_user("alex@example.org", "Alex", "volunteer", "a-long-password")
    conv = _waiting_conversation(1)
    queue.enqueue(conv.id, 0, conv.queued_at)
    conversations.claim(conv.id, sam)
    try:
        conversations.claim(conv.id, alex)
        raise AssertionError("second claim should be refused")
    except ConversationError as exc:
        assert exc.code == "taken"
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).volunteer_id == sam.id
    assert get_redis().smembers(queue.load_key(sam.id)) == {str(conv.id)}


def test_queue_is_rebuilt_from_sql_after_redis_loses_it(app_ctx):
    vol = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    early = _waiting_conversation(1, 0, T0)
    urgent = _waiting_conversation(2, 90, T0 + timedelta(minutes=3))
    held = _waiting_conversation(3, 0, T0)
    held.status, held.volunteer_id = "active", vol.id
    db.session.commit()
    get_redis().flushdb()  # Redis restarted empty
    assert queue_sync.rebuild_queue() == 2
    assert queue.ordered_ids() == [urgent.id, early.id]
    assert get_redis().smembers(queue.load_key(vol.id)) == {str(held.id)}
    assert [c["id"] for c in queue_sync.queue_snapshot()] == [urgent.id, early.id]
