"""A texter erased while texts of theirs still wait in a spool (issue 20): this host's entries go at once,
and every host's drain drops, never stores, what arrived before the erasure (a tombstone in SQL). Real
spool files, SQLite through the live app, and PostgreSQL where the tombstone is written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.web import signed_in_admin
from textline.extensions import db
from textline.models import CLOSED, AuditEvent, Conversation, Message, SpoolErasure, Texter, utcnow
from textline.ops import retention
from textline.redis_store import get_redis
from textline.texting import spool, spool_drain
from textline.texting.inbound import receive_inbound
from textline.texting.privacy import phone_hash

ERASED, OTHER = "+15550107200", "+15550107201"


def inbound(sid: str, body: str, number: str) -> dict:
    return {"MessageSid": sid, "From": number, "Body": body, "training": False}


def bodies() -> list[str]:
    db.session.expire_all()
    return db.session.scalars(select(Message.body).where(Message.direction == "in").order_by(Message.id)).all()


def erase_with_texts_waiting_here_and_on_another_host(here, there):
    """A texter known to SQL, with texts waiting in this host's spool and another host's; then erased."""
    receive_inbound(ERASED, "before the outage", "SM-stored")
    spool.append("inbound", inbound("SM-here", "my secret, spooled here", ERASED), here)
    spool.append("inbound", inbound("SM-there", "my secret, spooled there", ERASED), there)
    spool.append("inbound", inbound("SM-other", "someone else", OTHER), there)
    return db.session.scalar(select(Texter).where(Texter.phone_hash == phone_hash(ERASED, "test-phone-key")))


def test_an_erasure_deletes_this_hosts_entries_and_every_drain_drops_the_rest(app_ctx, cfg, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    cfg["SPOOL_DIR"] = str(here)
    texter = erase_with_texts_waiting_here_and_on_another_host(here, there)
    key = texter.phone_hash
    get_redis().set(f"tl:spool:page:{key}", "{}")  # a page claim of theirs (spool_pages)
    retention.erase_texter(texter)

    assert not any(ERASED in p.read_text() for p in here.iterdir() if p.is_file())  # gone from disk at once
    assert spool.depth(here).count == 0
    assert get_redis().exists(f"tl:spool:page:{key}") == 0
    assert db.session.get(SpoolErasure, key) is not None
    # The other host drains later, SQL up: its entry of theirs is dropped, the other texter's stored.
    cfg["SPOOL_DIR"] = str(there)
    result = spool_drain.drain()
    assert (result["stored"], result["erased"], result["left"]) == (1, 1, 0)
    assert bodies() == [None, "someone else"]  # the erased text's body is gone; nothing of theirs came back
    assert db.session.scalar(select(func.count()).select_from(Texter).where(Texter.phone_hash == key)) == 0
    assert not any(ERASED in p.read_text() for p in there.iterdir() if p.is_file())
    # They text again after the erasure: a new text, stored as a new texter.
    spool.append("inbound", inbound("SM-after", "hello again", ERASED), there)
    assert spool_drain.drain()["stored"] == 1
    assert bodies()[-1] == "hello again"


def test_no_drain_runs_while_an_erasure_commits(app_ctx, cfg, tmp_path):
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    spool.append("inbound", inbound("SM1", "hi", OTHER), tmp_path / "spool")
    with spool_drain.drains_paused():
        assert spool_drain.drain()["skipped"]
    assert spool_drain.drain()["stored"] == 1


def test_retention_forgets_tombstones_with_the_rest(app_ctx, cfg, tmp_path):
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    spool_drain.remember_erasure("a" * 64, utcnow() - timedelta(days=10))
    spool_drain.remember_erasure("b" * 64, utcnow())
    db.session.commit()
    retention.apply_retention(5)
    assert db.session.scalars(select(SpoolErasure.texter_key)).all() == ["b" * 64]


def test_on_postgres_the_tombstone_is_written_once_moved_on_and_honoured(pg_app, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    with pg_app.app_context():
        pg_app.config["SPOOL_DIR"] = str(here)
        texter = erase_with_texts_waiting_here_and_on_another_host(here, there)
        key = texter.phone_hash
        for conv in db.session.scalars(select(Conversation).where(Conversation.texter_id == texter.id)):
            conv.status = CLOSED  # closing an open one tells the consoles: not for a bare app
        db.session.commit()
        retention.erase_texter(texter)
        first = db.session.get(SpoolErasure, key).erased_at
        spool_drain.remember_erasure(key, first + timedelta(seconds=5))  # erased again: moved on, one row
        db.session.commit()
        assert db.session.scalars(select(SpoolErasure.erased_at)).all() == [first + timedelta(seconds=5)]
        pg_app.config["SPOOL_DIR"] = str(there)
        result = spool_drain.drain()
        assert (result["stored"], result["erased"]) == (1, 1)
        assert db.session.scalars(select(Message.body).where(Message.direction == "in")
                                  .order_by(Message.id)).all() == [None, "someone else"]
        db.session.remove()


def test_an_admin_erases_someone_known_only_to_the_spool(live_app, app_ctx, cfg, tmp_path):
    """They texted only while the database was down: the lookup finds no texter, shows what waits, and
    erasing it leaves nothing to store."""
    folder = tmp_path / "spool"
    cfg["SPOOL_DIR"] = str(folder)
    spool.append("inbound", inbound("SM-1", "only in the spool", ERASED), folder)
    spool.append("inbound", inbound("SM-2", "someone else", OTHER), folder)
    admin = signed_in_admin(live_app.base_url)
    found = admin.post("/admin/texters", data={"number": ERASED, "csrf_token": admin.token})
    page = found.get_data(as_text=True)
    assert found.status_code == 404 and "1 text(s) from this number arrived while the database was down" in page
    erased = admin.post("/admin/texters/erase", data={"number": ERASED, "confirm": "ERASE",
                                                      "csrf_token": admin.token}, follow_redirects=True)
    assert "Erased 1 text(s) that waited for the database" in erased.get_data(as_text=True)
    assert [e.fields["From"] for e in spool.waiting_entries(folder)] == [OTHER]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "texter_erase")).details == {"spooled": 1}
    # Had another host kept one of theirs, its drain would drop it: the tombstone is there.
    assert db.session.get(SpoolErasure, phone_hash(ERASED, "test-phone-key")) is not None
    assert spool_drain.drain()["stored"] == 1 and bodies() == ["someone else"]
