"""Repairing the Redis queue from SQL: after an outage, at start, from the CLI and from beat."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textline.extensions import db
from textline.models import Conversation, Texter
from textline.ops.cli import create_user
from textline.redis_store import get_redis
from textline.texting import conversations, queue, queue_sync
from workers.celery_app import BEAT_SCHEDULE
from workers.ops import reconcile_queue as reconcile_task

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)


def _conversation(n: int, status="waiting", priority=0, queued_at=T0, volunteer_id=None) -> Conversation:
    texter = Texter(phone_hash=f"{n:064d}", alias=f"Texter {n:04d}")
    conv = Conversation(texter=texter, status=status, priority=priority, queued_at=queued_at,
                        risk_level="none", risk_reasons=[], volunteer_id=volunteer_id)
    db.session.add(conv)
    db.session.commit()
    return conv


def test_reconcile_puts_back_what_redis_lost_and_drops_what_ended(app_ctx):
    sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    early = _conversation(1)
    urgent = _conversation(2, priority=90, queued_at=T0 + timedelta(minutes=3))
    held = _conversation(3, status="active", volunteer_id=sam.id)
    ended = _conversation(4, status="closed")
    get_redis().flushdb()  # Redis restarted empty...
    queue.enqueue(ended.id, 0, T0)  # ...or kept an entry whose close could not reach it
    queue.hold(ended.id, sam.id)

    changed = queue_sync.reconcile_queue()

    assert queue.ordered_ids() == [urgent.id, early.id]
    assert get_redis().smembers(queue.load_key(sam.id)) == {str(held.id)}
    assert changed == 2 + 1 + 2  # two queued, one load restored, the ended one dropped twice
    assert queue_sync.reconcile_queue() == 0  # already in agreement: nothing to do


def test_reconcile_never_requeues_a_conversation_being_claimed(app_ctx):
    """The claim's Lua has taken it from the queue but its SQL commit is still in flight: SQL says
    "waiting" for a moment, and a reconcile then must not put it back for someone else to take."""
    sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    conv = _conversation(1)
    queue.enqueue(conv.id, 0, conv.queued_at)
    assert queue.claim(conv.id, sam.id, capacity=2)[0] == queue.CLAIMED  # Redis part of conversations.claim
    queue_sync.reconcile_queue()
    assert queue.ordered_ids() == []


def test_reconcile_keeps_a_higher_priority_already_in_redis(app_ctx):
    conv = _conversation(1, priority=10)
    queue.enqueue(conv.id, 95, conv.queued_at)  # a risky text raised it; SQL's copy is older here
    queue_sync.reconcile_queue()
    assert get_redis().zscore(queue.QUEUE, str(conv.id)) == queue.score(95, conv.queued_at)


def test_reconcile_raises_a_priority_redis_missed(app_ctx):
    """A risky text arrived while Redis was unreachable: SQL has the higher priority, Redis the old one."""
    calm = _conversation(1, priority=0, queued_at=T0)
    risky = _conversation(2, priority=0, queued_at=T0 + timedelta(minutes=1))
    queue.enqueue(calm.id, 0, calm.queued_at)
    queue.enqueue(risky.id, 0, risky.queued_at)
    risky.priority = 90
    db.session.commit()
    assert queue_sync.reconcile_queue() == 1
    assert queue.ordered_ids() == [risky.id, calm.id]


def test_cli_rebuild_queue_repairs_and_full_replaces(app):
    with app.app_context():
        sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
        waiting = _conversation(1).id
        _conversation(2, status="active", volunteer_id=sam.id)
        get_redis().flushdb()
        queue.enqueue(999, 0, T0)  # junk SQL never heard of
    runner = app.test_cli_runner()
    result = runner.invoke(args=["textline", "rebuild-queue"])
    assert result.exit_code == 0, result.output
    assert "queue repaired from SQL" in result.output
    with app.app_context():
        assert queue.ordered_ids() == [waiting]  # unknown 999 is dropped too (no open conversation)
        queue.enqueue(998, 0, T0)
    result = runner.invoke(args=["textline", "rebuild-queue", "--full"])
    assert result.exit_code == 0 and "1 waiting" in result.output
    with app.app_context():
        assert queue.ordered_ids() == [waiting]


def test_beat_runs_the_reconcile_periodically(app_ctx):
    entry = BEAT_SCHEDULE["queue-reconcile"]
    assert entry["task"] == reconcile_task.name and entry["schedule"] <= 60
    conv = _conversation(1)
    get_redis().flushdb()
    assert reconcile_task.delay().get() == 1
    assert queue.ordered_ids() == [conv.id]
