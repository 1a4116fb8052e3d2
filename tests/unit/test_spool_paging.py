"""Safety does not wait for SQL (issue 20): the paging rota mirrored into Redis, a page sent from it for a
high-risk text while SQL is down (here: SQLite's write lock held, as a stuck writer would), exactly once,
and the drain recording that page instead of paging again. Real Redis, real SQLite, Twilio faked at
the HTTP level."""
from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

from sqlalchemy import event, select

from tests.support.servers import wait_until
from tests.support.state import make_user
from tests.support.texting import fake_twilio_client, inbound_params, inject_faults, post_signed
from textline.extensions import db
from textline.models import Escalation, Page, utcnow
from textline.redis_store import get_redis
from textline.safety import escalation, pager_cache, spool_pages
from textline.texting import spool, spool_drain
from workers.outbound import sweep_outbox

TEXTER = "+15550107100"
DANA, EVE = "+15550100001", "+15550100002"
HIGH = "i have the pills in my hand and i want to kill myself tonight"


def pages_to(live_app, number: str) -> list:
    return fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)


def test_the_rota_is_mirrored_into_redis_without_expiry_and_follows_changes(app_ctx):
    dana = make_user(db.session, "dana@example.org", role="supervisor", pager_phone=DANA)
    make_user(db.session, "eve@example.org", role="admin", pager_phone=EVE, on_shift=True)
    make_user(db.session, "sam@example.org", role="volunteer", pager_phone="+15550100003")  # not an adult
    assert pager_cache.cached() == []
    escalation.sweep()  # every sweep reads the rota, pages due or not
    assert [(p.name, p.phone) for p in pager_cache.cached()] == [("Eve", EVE), ("Dana", DANA)]
    assert get_redis().ttl(pager_cache.KEY) == -1  # kept through an outage of any length
    dana.active = False
    db.session.commit()
    escalation.sweep()
    assert [p.phone for p in pager_cache.cached()] == [EVE]


def test_a_slow_sweep_that_read_sql_before_an_adult_was_added_does_not_overwrite_a_newer_rota(app, app_ctx):
    """Sweeps overlap (beat's, a worker's stand-in, one timed for a deadline): the slower one's older read
    of SQL must not replace a newer one in Redis, or the adult just added is not paged during an outage."""
    make_user(db.session, "dana@example.org", role="supervisor", pager_phone=DANA, on_shift=True)
    read, go_on = threading.Event(), threading.Event()

    def pause_after_the_rota_read(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name == "slow-sweep" and "pager_phone" in statement and not read.is_set():
            read.set()
            go_on.wait(10)

    def slow_sweep():
        with app.app_context():
            try:
                escalation.sweep()
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", pause_after_the_rota_read)
    try:
        slow = threading.Thread(target=slow_sweep, name="slow-sweep")
        slow.start()
        assert read.wait(10), "the slow sweep read the rota"
        make_user(db.session, "eve@example.org", role="supervisor", pager_phone=EVE)
        escalation.sweep()
        assert [p.phone for p in pager_cache.cached()] == [DANA, EVE]
        go_on.set()
        slow.join(10)
    finally:
        go_on.set()
        event.remove(db.engine, "after_cursor_execute", pause_after_the_rota_read)
    assert [p.phone for p in pager_cache.cached()] == [DANA, EVE]  # the older read [Dana] was not kept


def test_a_high_risk_text_while_sql_is_down_pages_once_and_the_drain_does_not_page_again(live_app, app_ctx, cfg,
                                                                                          tmp_path):
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    make_user(db.session, "dana@example.org", role="supervisor", pager_phone=DANA, on_shift=True)
    eve_id = make_user(db.session, "eve@example.org", role="supervisor", pager_phone=EVE).id
    escalation.sweep()  # each sweep while SQL is up mirrors the rota
    db.session.remove()
    sid = "SM-spooled-high"
    params = inbound_params(live_app.account_sid, TEXTER, HIGH, sid)
    # SQL is down: its write lock is held (the web process's busy wait is half a second).
    holder = sqlite3.connect(cfg["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), timeout=15,
                             isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
        wait_until(lambda: len(pages_to(live_app, DANA)) == 1, timeout=10, what="the first adult paged")
        # Twilio retries the same text, the texter writes again, a drain finds SQL down: nobody is paged twice.
        assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
        again = inbound_params(live_app.account_sid, TEXTER, "i mean it, i will kill myself tonight", "SM-again")
        assert post_signed(live_app.base_url, "/sms/inbound", again, live_app.auth_token).status_code == 200
        spool_drain.page_waiting(spool.take())
        claim = spool_pages.claimed_for(TEXTER)
        raw_claim = get_redis().get(f"tl:spool:page:{spool_pages.texter_key(TEXTER)}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [page] = pages_to(live_app, DANA)
    assert pages_to(live_app, EVE) == []
    assert TEXTER not in page.body and "kill" not in page.body and "Texter " in page.body  # the alias only
    assert (claim.message_sid, claim.twilio_sid) == (sid, page.sid)
    assert TEXTER[1:] not in raw_claim  # the claim holds the adult's page, never the texter's number

    # Drained here, or by the drain a spooled webhook kicked in the background, whichever runs first.
    wait_until(lambda: not spool_drain.drain()["left"] and not spool.waiting(), timeout=30,
               what="the spool drained once SQL is back")
    db.session.expire_all()
    [esc] = db.session.scalars(select(Escalation)).all()
    [row] = db.session.scalars(select(Page)).all()
    assert (esc.reason, esc.pages_sent) == ("risk", 1)
    assert (row.seq, row.twilio_sid, row.body) == (0, page.sid, page.body)
    assert esc.next_page_at > utcnow() + timedelta(seconds=cfg["PAGE_REPEAT_SECONDS"] - 30)
    assert spool_pages.claimed_for(TEXTER) is None  # released: a later outage pages afresh
    # The sweep finds nothing due: the page the spool sent is this escalation's first.
    assert escalation.sweep()["pages"] == 0
    assert len(pages_to(live_app, DANA)) == 1
    # Nobody acknowledges: the rota goes on with the next adult, not the same page again.
    assert escalation.sweep(now=utcnow() + timedelta(seconds=cfg["PAGE_REPEAT_SECONDS"] + 1))["pages"] == 1
    wait_until(lambda: len(pages_to(live_app, EVE)) == 1, timeout=10, what="the next adult paged")
    assert len(pages_to(live_app, DANA)) == 1
    assert db.session.scalars(select(Page.user_id).order_by(Page.seq)).all() == [row.user_id, eve_id]


def test_no_page_from_the_spool_while_sql_is_up(live_app, app_ctx, cfg, tmp_path):
    """Texts spooled only to keep their order (SQL answers) raise the normal escalation, paged by the sweep."""
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    make_user(db.session, "dana@example.org", role="supervisor", pager_phone=DANA, on_shift=True)
    escalation.sweep()
    spool_drain.spool_inbound(TEXTER, HIGH, "SM-ordered", False)
    assert spool_drain.drain()["stored"] == 1
    [esc] = db.session.scalars(select(Escalation)).all()
    assert esc.pages_sent == 0 and db.session.scalars(select(Page)).all() == []
    assert pages_to(live_app, DANA) == []


def test_a_page_whose_outcome_was_unknown_is_looked_up_not_sent_twice(live_app, app_ctx, cfg, tmp_path):
    """Twilio took the page but the answer was lost (a 500 after storing it): the drain records it
    "unconfirmed", and the outbox sweep finds it at Twilio instead of paging again."""
    cfg["SPOOL_DIR"] = str(tmp_path / "spool")
    cfg["OUTBOUND_SWEEP_AFTER_SECONDS"] = 0
    make_user(db.session, "dana@example.org", role="supervisor", pager_phone=DANA, on_shift=True)
    escalation.sweep()
    inject_faults(live_app.base_url, live_app.account_sid, live_app.auth_token, {"status": 500, "store": True})
    page = spool_pages.page_spooled_text(TEXTER, "SM-lost-answer")  # as the webhook's background task does
    assert (page.status, page.twilio_sid) == ("unconfirmed", None)
    assert len(pages_to(live_app, DANA)) == 1  # it did go out
    spool.append("inbound", {"MessageSid": "SM-lost-answer", "From": TEXTER, "Body": HIGH, "training": False,
                             "high": True})
    assert spool_drain.drain()["stored"] == 1
    [row] = db.session.scalars(select(Page)).all()
    assert (row.seq, row.status) == (0, "unconfirmed")
    sweep_outbox()
    db.session.expire_all()
    [row] = db.session.scalars(select(Page)).all()
    [sent] = pages_to(live_app, DANA)
    assert row.twilio_sid == sent.sid and row.status != "unconfirmed"
