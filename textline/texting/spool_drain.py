"""Webhooks into the spool while SQL is down, and back out of it into SQL when it returns.

Spooling (textline/texting/webhooks.py): a webhook that cannot commit, or that arrives while earlier
ones still wait in the spool (so a conversation's texts stay in order), is appended to the spool
(textline/texting/spool.py) and answered 200. A high-risk text alerts the adults at once, before SQL
has it: a notice "stored in spool" over Socket.IO (Redis), naming only the texter's alias; and while SQL
is known to be down (this webhook's write failed, or this process's last drain did), a page to the first
adult of the rota mirrored in Redis, once per texter (textline/safety/spool_pages.py). A drain that finds
SQL down pages for the high-risk texts it could not store, so a text spooled only to keep its order in a
process that had not yet seen the outage is paged for too.

Draining: the beat task (workers/spool.py) and each web process (its upkeep loop, and straight after
spooling while SQL is up) replay the spool in arrival order, one drain at a time (a Redis lock across
hosts, a file lock on the directory). A spooled text goes through receive_inbound with its real arrival
time, then announce_inbound, exactly as if it had just arrived: queue, consoles, welcome text, crisis
text and escalation (each once: MessageSid is unique, the crisis text is claimed in SQL); a page already
sent from the spool becomes that escalation's first page instead of a second one. A database
error stops the drain and leaves the rest for the next one; anything else is rejected with its reason.

Erasure: a texter erased on request (textline/ops/retention.py) may still have texts in a spool: on
this host, or on another web host whose spool this host cannot read. The rule, here only: the erasure
records a tombstone in SQL (SpoolErasure: the texter's key, the HMAC of their number, and when), in the
transaction that erases them, while every drain is held off (the Redis drain lock); it then deletes
their entries from this host's spool files at once (forget_spooled). Every drain reads the tombstones
of the texters in what it took, and drops, never stores, a text that arrived at or before its texter's
erasure; one that arrived after it is a new text, stored as a new texter. Tombstones are forgotten by
retention after RETENTION_DAYS, like the spool's rejected entries.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime

from flask import Flask, current_app
from redis.exceptions import LockError, RedisError
from sqlalchemy import delete, select, text

from textline import broadcast
from textline.extensions import DATABASE_ERRORS, db, socketio
from textline.models import SpoolErasure
from textline.models.upsert import insert_for
from textline.ops import metrics
from textline.redis_store import get_redis, key
from textline.safety import notices, spool_pages
from textline.riskmodels import live as risk_models
from textline.texting import delivery, spool
from textline.texting.inbound import announce_inbound, receive_inbound
from textline.texting.privacy import alias_for, phone_hash

DRAIN_LOCK = key("spool", "drain")
log = logging.getLogger(__name__)
_draining: set[int] = set()       # apps with a drain running in this process (kick)
_sql_down: set[int] = set()       # apps whose last drain stopped on a database error: no kicks, upkeep retries
_last_depth: dict[int, int] = {}  # per app: the depth last told to the adults


# ---- into the spool -----------------------------------------------------------------------------

def sql_known_down() -> bool:
    """This process's last drain stopped on a database error (and none has succeeded since)."""
    return id(current_app._get_current_object()) in _sql_down


def spool_inbound(number: str, body: str, sid: str, training: bool,
                  media: tuple[tuple[str, str | None], ...] = (), sql_down: bool = False) -> None:
    """Keep a text durably (raises OSError if the disk will not), then make sure adults hear of high risk:
    over Socket.IO at once, and by a page if SQL is down (`sql_down`: this webhook's write just failed;
    or this process's last drain did)."""
    high = risk_models.score(body).level == "high"
    fields = {"MessageSid": sid, "From": number, "Body": body, "training": training,
              "media": [list(item) for item in media]}
    if high:
        fields["high"] = True  # a drain that finds SQL down pages for it (page_waiting)
    spool.append("inbound", fields)
    metrics.inc("webhooks", "inbound", "spooled")
    if high:
        alias = alias_for(phone_hash(number, current_app.config["PHONE_HASH_KEY"]))
        notices.notify_supervisors(
            "spooled_high_risk", f"High-risk text from {alias}, stored in spool: the database is down. It "
            "reaches the queue (with its escalation and crisis text) when the database is back.",
            level="urgent", alias=alias, spooled=True)
        if sql_down or sql_known_down():
            _in_background(spool_pages.page_spooled_text, number, sid)
    # The banner's count comes from each web process's upkeep (every REDIS_WATCH_SECONDS): reading the
    # whole spool on every webhook would cost more the longer the outage.


def _in_background(fn, *args) -> None:
    """A page waits on Twilio (up to TWILIO_HTTP_TIMEOUT); the webhook answers without waiting for it."""
    app = current_app._get_current_object()

    def run():
        try:
            with app.app_context():
                fn(*args)
        except Exception:
            log.exception("paging from the spool failed")

    socketio.start_background_task(run)


def page_waiting(entries: list[spool.Entry]) -> None:
    """SQL is down and these texts wait: page for the high-risk ones (once per texter: the claim decides)."""
    for entry in entries:
        if entry.kind == "inbound" and entry.fields.get("high"):
            spool_pages.page_spooled_text(entry.fields["From"], entry.fields["MessageSid"])


def spool_status(sid: str, state: str, error_code: str | None) -> None:
    spool.append("status", {"MessageSid": sid, "MessageStatus": state, "ErrorCode": error_code})
    metrics.inc("webhooks", "status", "spooled")


# ---- out of it ----------------------------------------------------------------------------------

def _replay(entry: spool.Entry) -> None:
    f = entry.fields
    if entry.kind == "inbound":
        paged = spool_pages.claimed_for(f["From"]) if f.get("high") else None
        result = receive_inbound(f["From"], f["Body"], f["MessageSid"], training=bool(f.get("training")),
                                 received_at=entry.at, media=tuple(tuple(item) for item in f.get("media", ())),
                                 paged=paged)
        if paged is not None:  # recorded as its escalation's first page (or it had one already): done
            spool_pages.release(f["From"])
            if paged.twilio_sid:
                delivery.catch_up(paged.twilio_sid)
        if result.duplicate:
            metrics.inc("webhooks", "inbound", "duplicate")
            return
        metrics.inc("messages", "in")
        log.info("spooled text stored", extra={"conversation_id": result.conversation.id,
                                              "message_id": result.message.id, "opened": result.opened})
        try:
            announce_inbound(result)
        except Exception:  # stored is what counts here; the queue and consoles are repaired from SQL
            log.exception("announcing a spooled text failed")
    elif entry.kind == "status":
        delivery.record_receipt(f["MessageSid"], f["MessageStatus"], f.get("ErrorCode"))
    else:
        raise ValueError(f"unknown spool entry kind {entry.kind!r}")


def rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        db.session.remove()


def _sql_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except DATABASE_ERRORS:
        return False
    finally:
        rollback()


@contextmanager
def _shared_lock():
    """True when this drain may run: it holds the Redis lock, or Redis is down (the file lock suffices
    for one host)."""
    try:
        lock = get_redis().lock(DRAIN_LOCK, timeout=300, blocking=False)
        held = lock.acquire()
    except RedisError:
        yield True
        return
    try:
        yield held
    finally:
        if held:
            try:
                lock.release()
            except (RedisError, LockError):
                pass


def _stopped(app_id: int, exc: Exception, waiting: list[spool.Entry]) -> None:
    """A database error: what is left waits for the next drain, and adults are paged for its high risk."""
    rollback()
    if app_id not in _sql_down:
        log.warning("spool drain stopped, the database is still unavailable: %s", exc.__class__.__name__)
    _sql_down.add(app_id)
    page_waiting(waiting)


def drain() -> dict:
    """Replay the spool into SQL, oldest first. Returns counts (nothing about the texts)."""
    folder, app_id = spool.directory(), id(current_app._get_current_object())
    result = {"stored": 0, "rejected": 0, "erased": 0, "left": 0, "skipped": False}
    if not spool.waiting(folder):
        return result
    if app_id in _sql_down and not _sql_answers():  # still down: no batch files made, nothing read
        _tell_depth()
        return {**result, "skipped": True}
    with spool.drain_lock(folder) as local, _shared_lock() as shared:
        if not (local.acquired and shared):
            return {**result, "skipped": True}
        entries = spool.take(folder)
        done: set[tuple[str, int]] = set()
        try:
            try:
                erased, to_replay = _erased(entries), entries
            except DATABASE_ERRORS as exc:
                _stopped(app_id, exc, entries)
                erased, to_replay = set(), []
            for n, entry in enumerate(to_replay):
                if (entry.path.name, entry.line) in erased:
                    done.add((entry.path.name, entry.line))  # its texter was erased after it arrived
                    result["erased"] += 1
                    continue
                try:
                    _replay(entry)
                    result["stored"] += 1
                    _sql_down.discard(app_id)
                except DATABASE_ERRORS as exc:
                    _stopped(app_id, exc, entries[n:])
                    break
                except Exception as exc:
                    rollback()
                    spool.reject(entry, exc.__class__.__name__, folder)
                    metrics.inc("webhooks", entry.kind, "spool_rejected")
                    log.error("spool entry rejected: %s", exc.__class__.__name__)
                    result["rejected"] += 1
                done.add((entry.path.name, entry.line))
        finally:
            spool.settle(entries, done)
            db.session.remove()
        result["left"] = len(entries) - len(done)
    if result["stored"] or result["rejected"] or result["erased"]:
        log.info("spool drained", extra=result)
    _tell_depth()
    return result


# ---- erasure (see the module's docstring) -------------------------------------------------------

ERASE_WAIT = 30.0  # seconds an erasure waits for a drain under way before it goes ahead all the same


def _key_of_fields(fields: dict) -> str | None:
    try:
        return spool_pages.texter_key(fields["From"])
    except (ValueError, KeyError, TypeError):
        return None  # not a number: the replay rejects it


def _texter_key(entry: spool.Entry) -> str | None:
    return _key_of_fields(entry.fields) if entry.kind == "inbound" else None  # a status names no texter


def _erased(entries: list[spool.Entry]) -> set[tuple[str, int]]:
    """The entries whose texter was erased after they arrived (one SELECT for the whole batch)."""
    keyed = [(e, k) for e in entries if (k := _texter_key(e)) is not None]
    if not keyed:
        return set()
    stones = dict(db.session.execute(select(SpoolErasure.texter_key, SpoolErasure.erased_at)
                                     .where(SpoolErasure.texter_key.in_({k for _, k in keyed}))).all())
    return {(e.path.name, e.line) for e, k in keyed if k in stones and e.at <= stones[k]}


def remember_erasure(texter_key: str, now: datetime) -> None:
    """The tombstone, in the caller's (the erasure's) transaction; a second erasure moves it on."""
    stmt = insert_for(db.session, SpoolErasure).values(texter_key=texter_key, erased_at=now)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["texter_key"],
                                                  set_={"erased_at": stmt.excluded.erased_at}))


@contextmanager
def drains_paused():
    """Hold off every drain (all hosts: the Redis drain lock) while an erasure commits, so none stores a
    text of that texter between reading the tombstones and the erasure's commit. Redis down, or a drain
    longer than ERASE_WAIT: it goes ahead (that drain's texts are erased with the rest, or dropped by the next)."""
    try:
        lock = get_redis().lock(DRAIN_LOCK, timeout=300, blocking_timeout=ERASE_WAIT)
        held = lock.acquire()
    except RedisError:
        held = False
    try:
        yield
    finally:
        if held:
            try:
                lock.release()
            except (RedisError, LockError):
                pass


def forget_spooled(texter_key: str, erased_at: datetime, folder=None) -> int:
    """After the erasure's commit: this host's spool entries of that texter (waiting or set aside) go now,
    and any page claim of theirs. Returns how many entries went. Other hosts' are dropped by their drains."""
    folder = folder or spool.directory()
    spool_pages.release_key(texter_key)
    gone = spool.erase_rejected(lambda fields: _key_of_fields(fields) == texter_key, folder)
    with spool.drain_lock(folder, wait=ERASE_WAIT) as local:
        if not local.acquired:
            return gone  # a drain holds it: the tombstone makes it drop them
        entries = spool.take(folder)
        drop = {(e.path.name, e.line) for e in entries if _texter_key(e) == texter_key and e.at <= erased_at}
        spool.settle(entries, drop)
    return gone + len(drop)


def waiting_from(texter_key: str) -> int:
    """How many texts of this texter wait in this host's spool (the admin's erasure page)."""
    return sum(1 for e in spool.waiting_entries() if _texter_key(e) == texter_key)


def forget_erasures_before(cutoff: datetime) -> int:
    """Retention: a tombstone older than RETENTION_DAYS goes (caller commits)."""
    return db.session.execute(delete(SpoolErasure).where(SpoolErasure.erased_at < cutoff)).rowcount


def kick() -> None:
    """Drain in the background of this process, now (one at a time per process)."""
    app = current_app._get_current_object()
    if id(app) in _draining or id(app) in _sql_down:
        return
    _draining.add(id(app))

    def run():
        try:
            with app.app_context():
                drain()
        except Exception:
            log.exception("spool drain failed")
        finally:
            _draining.discard(id(app))

    socketio.start_background_task(run)


def _tell_depth() -> None:
    """The adults' banner: "N texts waiting for the database" (sent while non-empty, and once at zero)."""
    app = current_app._get_current_object()
    now = spool.depth()
    if now.count or _last_depth.get(id(app)):
        broadcast.spool_changed(now.count, now.oldest_seconds())
    _last_depth[id(app)] = now.count


def tick(app: Flask) -> None:
    """A web process's upkeep round: drain if anything waits, and keep the adults' banner current."""
    with app.app_context():
        if spool.waiting():
            drain()
        else:
            _tell_depth()
