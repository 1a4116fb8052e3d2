"""The queue as SQL and the consoles see it, and keeping Redis in step with SQL.

SQL is the record; Redis holds the order (textline/texting/queue.py). When Redis fails after SQL has
committed, the caller goes on (the texter is stored, the webhook answers 200), the queue is marked out
of date here, and it is repaired from SQL as soon as Redis answers: by the web process's watcher
(textline/ops/web_upkeep.py), by beat every 30 s, and by every web process at start.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from textline import broadcast, payloads
from textline.extensions import db
from textline.models import ACTIVE, CLOSED, INBOUND, WAITING, Conversation, Message
from textline.texting import queue

# Set when this process could not update the Redis queue (Redis down): SQL has the record, and the
# web process's watcher reconciles as soon as Redis answers again.
queue_out_of_date = threading.Event()


@contextmanager
def after_commit(consequence: str):
    """Redis work after SQL has committed: a Redis failure must not fail the caller. It is logged with
    its consequence, and the queue is repaired from SQL later."""
    try:
        yield
    except RedisError as exc:
        queue_out_of_date.set()
        current_app.logger.warning("queue unavailable, %s: %s", consequence, exc)


def queue_state() -> dict:
    """The whole queue for a console: {"seq", "rows"}, the rows in queue order as of that SEQ (Redis
    decides the order and SEQ in one read; SQL supplies the details). Sent on connect, on coming on
    shift, after a repair, and when a console asks because it missed a change (`queue_sync`)."""
    seq, members = queue.ordered()
    if not members:
        return {"seq": seq, "rows": []}
    ids = [cid for cid, _ in members]
    # Texters in the same query: one lazy load per waiting conversation made this O(queue) statements.
    convs = {c.id: c for c in db.session.scalars(
        select(Conversation).options(joinedload(Conversation.texter)).where(Conversation.id.in_(ids)))}
    counts = dict(db.session.execute(
        select(Message.conversation_id, func.count()).where(
            Message.conversation_id.in_(ids), Message.direction == INBOUND).group_by(Message.conversation_id)
    ).all())
    rows = []
    for cid, order in members:
        conv = convs.get(cid)
        if conv is not None and conv.status == WAITING:
            rows.append(payloads.queue_row(conv, counts.get(cid, 0), order))
    return {"seq": seq, "rows": rows}


def queue_snapshot() -> list[dict]:
    """Waiting conversations in queue order."""
    return queue_state()["rows"]


def _inbound_count(conv: Conversation) -> int:
    return db.session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conv.id, Message.direction == INBOUND))


def publish_queue_item(conv: Conversation) -> None:
    """A text into a conversation that keeps its place in the queue: its row alone (`queue_item`), which
    consoles swap in where they have it. It changes no order, so it carries no SEQ."""
    broadcast.queue_item_changed(conv, _inbound_count(conv))


# The inbound path must not grow with the queue (issue 17): a change to the queue is sent as the one
# row that changed, with the SEQ Redis gave the change. Consoles keep the queue sorted by each row's
# `order` (its Redis score) and apply changes in SEQ order; a gap makes them ask for the whole queue.

def enqueue(conv: Conversation, consequence: str) -> None:
    """Put a waiting conversation in its place (new, risen, handed back, released) and send its row.
    After SQL has committed: Redis being down must not fail the caller."""
    with after_commit(consequence):
        seq = queue.enqueue(conv.id, conv.priority, conv.queued_at)
        broadcast.queue_put(seq, payloads.queue_row(conv, _inbound_count(conv),
                                                    queue.score(conv.priority, conv.queued_at)))


def remove(conversation_id: int, consequence: str) -> None:
    """A conversation left the queue (closed, blocked): out of Redis, and consoles told."""
    with after_commit(consequence):
        broadcast.queue_gone(queue.remove(conversation_id), conversation_id)


def claimed(conversation_id: int, seq: int) -> None:
    """A claim took it out of the queue (Redis's claim gave the SEQ)."""
    broadcast.queue_gone(seq, conversation_id)


def publish_queue() -> None:
    """The whole queue to every console (after a repair). Called after SQL has committed, so Redis
    being down must not fail the caller."""
    state = None
    with after_commit("consoles will be updated when Redis returns"):
        queue.bump()
        state = queue_state()
    if state is not None:
        broadcast.queue_changed(state)


def _queue_state_in_sql() -> tuple[list[tuple], list[tuple]]:
    """What Redis should hold: waiting = (id, priority, queued_at), held = (id, volunteer_id)."""
    waiting = db.session.execute(
        select(Conversation.id, Conversation.priority, Conversation.queued_at).where(Conversation.status == WAITING)
    ).all()
    held = db.session.execute(
        select(Conversation.id, Conversation.volunteer_id).where(
            Conversation.status == ACTIVE, Conversation.volunteer_id.is_not(None))
    ).all()
    return [tuple(w) for w in waiting], [tuple(h) for h in held]


def rebuild_queue() -> int:
    """Make Redis agree with SQL (after a Redis restart or outage). Returns the queue length."""
    waiting, held = _queue_state_in_sql()
    queue.rebuild(waiting, held)
    queue_out_of_date.clear()
    publish_queue()
    return len(waiting)


def reconcile_queue() -> int:
    """Repair Redis from SQL without disturbing live claims: add conversations SQL says are waiting or
    held that Redis lacks, drop ones SQL says have ended. Safe from any process at any time (beat runs
    it periodically; web processes run it at start and when Redis comes back). Returns the changes."""
    changed = queue.restore(*_queue_state_in_sql())
    loads = queue.held()
    known = set(queue.ordered_ids(limit=100_000)).union(*loads.values())
    still_open = set(db.session.scalars(select(Conversation.id).where(
        Conversation.id.in_(known), Conversation.status != CLOSED))) if known else set()
    changed += queue.forget(known - still_open, loads)
    db.session.commit()  # end the read transaction
    queue_out_of_date.clear()
    if changed:
        publish_queue()
    return changed
