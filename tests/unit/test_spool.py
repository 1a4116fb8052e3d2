"""The spool (issue 20): its files on disk, and its drain into SQL (SQLite here; PostgreSQL stopped and
started for real in tests/integration/test_spool.py)."""
from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from tests.support.servers import wait_until
from tests.support.state import make_user
from tests.support.texting import inbound_params, post_signed
from textline.extensions import db
from textline.models import Conversation, Escalation, Message, utcnow
from textline.ops import retention
from textline.redis_store import get_redis
from textline.texting import spool, spool_drain

TEXTER = "+15550107000"


def inbound(sid: str, body: str = "hello?", number: str = TEXTER) -> dict:
    return {"MessageSid": sid, "From": number, "Body": body, "training": False}


def test_appends_are_fsynced_lines_in_an_owner_only_directory(tmp_path):
    folder = tmp_path / "spool"
    spool.append("inbound", inbound("SM1"), folder)
    spool.append("inbound", inbound("SM2"), folder)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    [live] = [p for p in folder.iterdir() if p.name.startswith(spool.LIVE_PREFIX)]
    assert oct(live.stat().st_mode & 0o777) == "0o600"
    assert [json.loads(line)["fields"]["MessageSid"] for line in live.read_text().splitlines()] == ["SM1", "SM2"]
    assert spool.waiting(folder) and spool.depth(folder).count == 2


def test_a_drain_takes_what_is_there_and_a_later_append_goes_to_a_new_file(tmp_path):
    folder = tmp_path / "spool"
    spool.append("inbound", inbound("SM1"), folder)
    with spool.drain_lock(folder) as lock:
        assert lock.acquired
        with spool.drain_lock(folder) as second:
            assert not second.acquired  # one drain at a time
        entries = spool.take(folder)
        spool.append("inbound", inbound("SM2"), folder)  # arrives while the drain runs
        spool.settle(entries, {(e.path.name, e.line) for e in entries})
    left = spool.take(folder)
    assert [e.fields["MessageSid"] for e in left] == ["SM2"]


def test_settle_keeps_what_was_not_stored_in_its_order(tmp_path):
    folder = tmp_path / "spool"
    for sid in ("SM1", "SM2", "SM3"):
        spool.append("inbound", inbound(sid), folder)
    entries = spool.take(folder)
    spool.settle(entries, {(entries[0].path.name, entries[0].line)})
    assert [e.fields["MessageSid"] for e in spool.take(folder)] == ["SM2", "SM3"]


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path):
    folder = tmp_path / "spool"
    spool.append("inbound", inbound("SM1"), folder)
    [live] = folder.iterdir()
    with open(live, "ab") as f:
        f.write(b'{"kind":"inbound","at":"2026-')  # never fsynced, never answered 200
    assert [e.fields["MessageSid"] for e in spool.take(folder)] == ["SM1"]


def test_rejected_entries_are_erased_by_retention_and_by_a_texters_erasure(tmp_path):
    folder = tmp_path / "spool"
    spool.append("inbound", inbound("SM1", number="+15550107001"), folder)
    spool.append("inbound", inbound("SM2", number="+15550107002"), folder)
    for entry in spool.take(folder):
        spool.reject(entry, "ValueError", folder)
    rejected = folder / spool.REJECTED
    assert oct(rejected.stat().st_mode & 0o777) == "0o600"
    assert spool.erase_rejected(lambda fields: fields["From"] == "+15550107001", folder) == 1
    assert "+15550107001" not in rejected.read_text() and "+15550107002" in rejected.read_text()
    assert spool.erase_older_than(utcnow() - timedelta(days=1), folder) == 0
    assert spool.erase_older_than(utcnow() + timedelta(seconds=1), folder) == 1
    assert not rejected.exists()


def test_the_drain_stores_in_arrival_order_with_the_real_arrival_time_and_once(app_ctx, cfg, tmp_path):
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    make_user(db.session, "ada@example.org", role="supervisor", on_shift=True, pager_phone="+15550100001")
    spool.append("inbound", inbound("SM1", "hi is anyone there"), tmp_path / "spool")
    spool.append("inbound", inbound("SM2", "i have the pills in my hand and i want to kill myself tonight"),
                 tmp_path / "spool")
    arrived = [e.at for e in spool.take(tmp_path / "spool")]
    result = spool_drain.drain()
    assert (result["stored"], result["rejected"], result["left"]) == (2, 0, 0)
    msgs = db.session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
    assert [m.twilio_sid for m in msgs] == ["SM1", "SM2"]
    assert [m.created_at for m in msgs] == arrived
    conv = db.session.scalar(select(Conversation))
    assert conv.queued_at == arrived[0] and conv.risk_level == "high"
    esc = db.session.scalar(select(Escalation).where(Escalation.conversation_id == conv.id))
    assert esc.reason == "risk" and esc.opened_at == arrived[1]
    kinds = db.session.scalars(select(Message.kind).where(Message.direction == "out").order_by(Message.id)).all()
    assert kinds.count("welcome") == 1 and kinds.count("crisis") == 1
    assert not spool.waiting()
    # Twilio's retry of the same text, spooled again: stored once all the same.
    spool.append("inbound", inbound("SM2", "i have the pills"), tmp_path / "spool")
    assert spool_drain.drain()["stored"] == 1
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.twilio_sid == "SM2")) == 1


def test_an_entry_that_can_never_be_stored_is_kept_aside_with_its_reason(app_ctx, cfg, tmp_path):
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    spool.append("inbound", inbound("SM1", number="not-a-number"), tmp_path / "spool")
    spool.append("inbound", inbound("SM2"), tmp_path / "spool")
    result = spool_drain.drain()
    assert (result["stored"], result["rejected"]) == (1, 1)
    [kept] = (tmp_path / "spool" / spool.REJECTED).read_text().splitlines()
    assert json.loads(kept)["reason"] == "ValueError" and json.loads(kept)["fields"]["MessageSid"] == "SM1"
    assert get_redis().hget("tl:metrics:counters", "webhooks|inbound|spool_rejected") == "1"
    assert not spool.waiting()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere; the integration test uses a file instead")
def test_prepare_refuses_a_read_only_directory(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError):
            spool.prepare(tmp_path / "spool")
    finally:
        tmp_path.chmod(0o700)


def test_retention_and_a_texters_erasure_reach_what_the_spool_set_aside(app_ctx, cfg, tmp_path):
    """Set aside as unstorable, an entry still holds a body and a number: retention erases it after
    RETENTION_DAYS, and erasing the texter on request erases theirs at once."""
    folder = tmp_path / "spool"
    cfg["SPOOL_DIR"] = str(folder)
    spool.append("inbound", inbound("SM1"), folder)
    spool.append("inbound", inbound("SM2", number="+15550107009"), folder)
    entries = spool.take(folder)
    for entry in entries:
        spool.reject(entry, "ValueError", folder)
    spool.settle(entries, {(e.path.name, e.line) for e in entries})
    spool.append("inbound", inbound("SM3"), folder)
    assert spool_drain.drain()["stored"] == 1  # SM3: TEXTER is now a texter in SQL
    texter = retention.find_texter(TEXTER, cfg["PHONE_HASH_KEY"])
    retention.erase_texter(texter)
    rejected = (folder / spool.REJECTED).read_text()
    assert TEXTER not in rejected and "+15550107009" in rejected
    retention.apply_retention(30)
    assert (folder / spool.REJECTED).exists()  # arrived today: kept for now
    retention.apply_retention(0, now=utcnow() + timedelta(seconds=1))
    assert not (folder / spool.REJECTED).exists()


def test_while_texts_wait_in_the_spool_a_new_one_queues_behind_them(live_app, app_ctx, cfg, tmp_path):
    """SQL is back but the spool is not empty yet: a webhook must not overtake the texts before it."""
    folder = tmp_path / "spool"
    cfg["SPOOL_DIR"] = str(folder)
    spool.append("inbound", inbound("SM-first", "first, sent while the database was down"), folder)
    params = inbound_params(live_app.account_sid, TEXTER, "second, sent after it came back", "SM-second")
    assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200

    def stored() -> list[str]:
        db.session.rollback()
        return db.session.scalars(select(Message.twilio_sid).where(Message.direction == "in")
                                  .order_by(Message.id)).all()

    wait_until(lambda: len(stored()) == 2, timeout=30, what="both texts stored")  # the webhook kicked a drain
    assert stored() == ["SM-first", "SM-second"]
    # The drain deletes its batch file after the last commit, in its own background task.
    wait_until(lambda: not spool.waiting(folder), timeout=30, what="the spool emptied")


def test_an_unreadable_spool_sends_texts_to_sql_and_with_sql_down_too_twilio_is_asked_to_retry(
        live_app, app_ctx, cfg, tmp_path):
    """A spool directory that cannot be listed (here: a file where it should be) used to fail every
    inbound webhook with a 500 although SQL was up. Now SQL takes the text, and /readyz says the spool is
    unreadable, as /metrics does. With the database down as well (a real driver error: the tables renamed away), nothing
    can be stored: 503 + Retry-After asks Twilio to send it again, and its retry is stored once.
    (/readyz and /metrics answered 500 as well.)"""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    cfg["SPOOL_DIR"] = str(blocker / "spool")
    first = inbound_params(live_app.account_sid, TEXTER, "is anyone there", "SM-first")
    assert post_signed(live_app.base_url, "/sms/inbound", first, live_app.auth_token).status_code == 200
    ready = requests.get(live_app.base_url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["spool"]["error"] == "unreadable"
    cfg["METRICS_TOKEN"] = "a-metrics-token-for-this-test"
    metrics = requests.get(live_app.base_url + "/metrics", timeout=10,
                           headers={"Authorization": "Bearer a-metrics-token-for-this-test"})
    assert metrics.status_code == 200 and "textline_spool_unreadable 1.0" in metrics.text

    refused = inbound_params(live_app.account_sid, TEXTER, "hello??", "SM-refused")
    receipt = {"MessageSid": "SM-receipt", "MessageStatus": "delivered", "AccountSid": live_app.account_sid}
    moved = ("texters", "delivery_receipts")
    for table in moved:
        db.session.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    db.session.commit()
    try:
        answers = [post_signed(live_app.base_url, path, fields, live_app.auth_token)
                   for path, fields in (("/sms/inbound", refused), ("/sms/status", receipt))]
    finally:
        for table in moved:
            db.session.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
        db.session.commit()
    assert [(a.status_code, a.headers.get("Retry-After")) for a in answers] == [(503, "5"), (503, "5")]
    counters = get_redis().hgetall("tl:metrics:counters")
    assert (counters.get("webhooks|inbound|db_down"), counters.get("webhooks|status|db_down")) == ("1", "1")
    assert db.session.scalars(select(Message.twilio_sid).where(Message.direction == "in")).all() == ["SM-first"]
    assert post_signed(live_app.base_url, "/sms/inbound", refused, live_app.auth_token).status_code == 200
    assert post_signed(live_app.base_url, "/sms/inbound", refused, live_app.auth_token).status_code == 200
    assert db.session.scalars(select(Message.twilio_sid).where(Message.direction == "in")
                              .order_by(Message.id)).all() == ["SM-first", "SM-refused"]
