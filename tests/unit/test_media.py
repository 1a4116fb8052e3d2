"""Pictures and other media (MMS): signed webhooks with 0-10 items, fetched from the fake Twilio over HTTP
exactly once (retried through faults), kept owner-only, deleted at Twilio, shown adults first through
our own no-store routes, erased with the conversation."""
from __future__ import annotations

import io
import os
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.support.pg_app import configured_postgres_app
from tests.support.state import PASSWORD, make_user, settings
from tests.support.texting import ConsoleClient, inbound_params, inject_faults, login, new_sid, post_signed
from tests.support.web import Browser, csrf_token, sign_in
from textline.extensions import db
from textline.media import fetch, preview
from textline.models import AuditEvent, Conversation, Message, MessageMedia, Texter, utcnow
from textline.ops import retention
from textline.texting import fake_twilio
from textline.texting.inbound import receive_inbound
from workers.retention import apply_retention

TEXTER = "+15550108801"


def picture(color=(200, 40, 40), size=(64, 48), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def send_mms(live_app, body: str, items: list[tuple[bytes, str]], number: str = TEXTER, sid: str | None = None):
    """An MMS exactly as Twilio posts it: NumMedia, MediaUrl<n> (Twilio's own URL form, held by the fake
    Twilio), MediaContentType<n>, signed with the account's token."""
    sid = sid or new_sid()
    params = {**inbound_params(live_app.account_sid, number, body, sid), "NumMedia": str(len(items))}
    for n, (data, kind) in enumerate(items):
        params[f"MediaUrl{n}"] = fake_twilio.keep_media(live_app.account_sid, sid, data, kind)
        params[f"MediaContentType{n}"] = kind
    response = post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token)
    assert response.status_code == 200, response.text
    return params


def media_sid(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def media_rows() -> list[MessageMedia]:
    db.session.expire_all()
    return db.session.scalars(select(MessageMedia).order_by(MessageMedia.message_id, MessageMedia.position)).all()


def media_dir(live_app) -> Path:
    return Path(live_app.app.config["MEDIA_DIR"])


@pytest.fixture
def config(live_app):
    """Change the live app's settings for one test, put back afterwards."""
    saved = dict(live_app.app.config)
    yield live_app.app.config
    for name in ("MEDIA_ADULT_FIRST", "MEDIA_MAX_BYTES"):
        live_app.app.config[name] = saved[name]


# ---- webhooks with 0-10 media, fetched, kept, deleted at Twilio ------------------------------------

ASSORTED = [(picture((10 * n, 90, 160)), "image/png") for n in range(6)] + [
    (picture(fmt="JPEG"), "image/jpeg"), (b"\x00\x00\x00\x18ftypmp42" + b"v" * 3000, "video/mp4"),
    (b"#!AMR\n" + b"a" * 700, "audio/amr"), (b"BEGIN:VCARD\nVERSION:3.0\nFN:Sam\nEND:VCARD\n", "text/vcard")]


@pytest.mark.parametrize("count", [0, 1, 10])
def test_mms_with_0_to_10_media_is_fetched_kept_owner_only_and_deleted_at_twilio(live_app, app_ctx, count):
    items = ASSORTED[:count] if count != 1 else [ASSORTED[0]]
    params = send_mms(live_app, "look at this" if count else "just words", items)
    msg = db.session.scalar(select(Message).where(Message.twilio_sid == params["MessageSid"]))
    rows = media_rows()
    assert [(m.position, m.content_type) for m in rows] == [(n, kind) for n, (_, kind) in enumerate(items)]
    folder = media_dir(live_app)
    for n, row in enumerate(rows):
        data, kind = items[n]
        assert row.message_id == msg.id and row.state == "stored" and row.size == len(data), (row.state, row.error)
        stored = folder / row.storage_key
        assert stored.read_bytes() == data
        assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
        sid = media_sid(params[f"MediaUrl{n}"])
        assert fake_twilio.media_gets(sid) == 1, "fetched once"
        assert not fake_twilio.media_held(sid) and row.removed_from_twilio_at is not None, "deleted at Twilio"
        assert (row.preview_key is not None) == kind.startswith("image/")
    if rows:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert msg.body == ("look at this" if count else "just words")


def test_a_picture_alone_and_the_text_of_an_mms_is_scored_as_usual(live_app, app_ctx):
    send_mms(live_app, "", [(picture(), "image/png")], number="+15550108802")
    alone = db.session.scalar(select(Message).where(Message.direction == "in").order_by(Message.id.desc()))
    assert alone.body == "" and alone.media[0].state == "stored"
    send_mms(live_app, "i have the pills and i want to kill myself tonight", [(picture(), "image/png")])
    msg = db.session.scalar(select(Message).where(Message.direction == "in").order_by(Message.id.desc()))
    assert msg.risk["level"] == "high" and msg.conversation.risk_level == "high"


def test_a_file_over_the_limit_is_not_fetched_and_recorded_as_too_large(live_app, app_ctx, config):
    config["MEDIA_MAX_BYTES"] = 1000
    big = picture(size=(400, 400), fmt="BMP")
    params = send_mms(live_app, "big one", [(big, "image/bmp")])
    [row] = media_rows()
    assert (row.state, row.size, row.storage_key and (media_dir(live_app) / row.storage_key).exists()) == \
        ("too_large", len(big), False)
    assert fake_twilio.media_gets(media_sid(params["MediaUrl0"])) == 1  # asked, not read past the limit
    assert row.removed_from_twilio_at is not None


def test_a_failing_fetch_is_retried_and_still_fetched_once(live_app, app_ctx):
    inject_faults(live_app.base_url, live_app.account_sid, live_app.auth_token,
                  {"on": "media", "status": 500}, {"on": "media", "status": 503},
                  {"on": "media_delete", "status": 500})
    before = set(media_dir(live_app).iterdir()) if media_dir(live_app).exists() else set()
    params = send_mms(live_app, "retry me", [(picture(), "image/png")])
    [row] = media_rows()
    assert (row.state, row.attempts) == ("stored", 3)
    assert fake_twilio.media_gets(media_sid(params["MediaUrl0"])) == 1
    assert row.removed_from_twilio_at is not None and not fake_twilio.media_held(media_sid(params["MediaUrl0"]))
    # Run again (a redelivered task, the sweep): nothing is fetched or written again.
    key = row.storage_key
    assert fetch.fetch(row.id) == "stored"
    assert fake_twilio.media_gets(media_sid(params["MediaUrl0"])) == 1
    assert sorted(p.name for p in set(media_dir(live_app).iterdir()) - before) == sorted([key, row.preview_key])


def test_media_twilio_no_longer_has_is_failed_not_retried_for_ever(live_app, app_ctx):
    sid = new_sid()
    params = {**inbound_params(live_app.account_sid, TEXTER, "gone", sid), "NumMedia": "2",
              "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{live_app.account_sid}/Messages/{sid}/Media/ME{'0' * 32}",
              "MediaContentType0": "image/png",
              # Not this account's media: never called with the account's credentials.
              "MediaUrl1": "https://example.org/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
              "MediaContentType1": "image/png"}
    assert post_signed(live_app.base_url, "/sms/inbound", params, live_app.auth_token).status_code == 200
    assert [(m.state, m.attempts, m.error) for m in media_rows()] == \
        [("failed", 1, "gone: 404"), ("failed", 1, "gone: not a media URL of this account")]


def test_the_sweep_finds_media_whose_task_was_lost(live_app, app_ctx):
    send_mms(live_app, "lost task", [(picture(), "image/png")])
    [row] = media_rows()
    row.state, row.removed_from_twilio_at = "pending", None
    db.session.commit()
    assert fetch.stuck_ids(timedelta(0)) == [row.id]
    row.message.created_at = utcnow() + timedelta(minutes=5)  # just arrived: its own task still has it
    db.session.commit()
    assert fetch.stuck_ids(timedelta(seconds=60)) == []


# ---- who sees it, and how ---------------------------------------------------------------------------

@pytest.fixture
def team(live_app, app_ctx):
    people = {name: make_user(db.session, f"{name}@example.org", role, on_shift=True)
              for name, role in (("sam", "volunteer"), ("vic", "volunteer"), ("dana", "supervisor"))}
    return people


def browser_for(live_app, name: str | None) -> Browser:
    browser = Browser(live_app.base_url)
    if name:
        sign_in(browser, f"{name}@example.org")
    browser.token = csrf_token(browser, "/console" if name else "/login")
    return browser


def reveal(browser: Browser, media_id: int):
    return browser.post(f"/media/{media_id}/reveal", headers={"X-CSRFToken": browser.token})


def claimed_picture(live_app, team, original: bytes):
    """A picture in a conversation Sam holds; returns (Sam's console, the media row)."""
    send_mms(live_app, "this is what he did", [(original, "image/png")])
    conv = db.session.scalar(select(Conversation))
    sam = ConsoleClient(live_app.base_url, login(live_app.base_url, "sam@example.org", PASSWORD))
    sam.wait_for("hello")
    claimed = sam.call("claim", {"conversation_id": conv.id})
    assert claimed["ok"], claimed
    return sam, claimed, media_rows()[0]


def test_no_twilio_url_and_no_picture_bytes_reach_a_volunteer_before_reveal(live_app, team):
    detailed = Image.new("L", (200, 150))
    detailed.putdata([255 * ((x // 4 + y // 4) % 2) for y in range(150) for x in range(200)])  # a fine checkerboard
    out = io.BytesIO()
    detailed.convert("RGB").save(out, format="PNG")
    original = out.getvalue()
    sam, claimed, row = claimed_picture(live_app, team, original)
    try:
        [item] = claimed["messages"][0]["media"]
        assert item == {"id": row.id, "kind": "picture", "content_type": "image/png", "size": len(original),
                        "state": "stored", "preview": True, "adult_viewed": False, "held": False}
        send_mms(live_app, "and another", [(original, "image/png")])
        event = sam.wait_for("message", lambda m: m["body"] == "and another" and m["media"][0]["state"] == "stored")
        seen = repr(claimed) + repr(sam.seen) + repr(event)
        urls = [m.url for m in media_rows()]
        for leak in ("twilio.com", "fake-twilio", "/Media/", row.storage_key, *urls, *map(media_sid, urls)):
            assert leak not in seen, leak
        browser = browser_for(live_app, "sam")
        page = browser.get("/console").text
        assert "twilio.com" not in page and "/Media/" not in page
        blurred = browser.get(f"/media/{row.id}/preview")
        assert blurred.status_code == 200 and blurred.headers["Content-Type"] == "image/jpeg"
        assert blurred.headers["Cache-Control"] == "no-store"
        assert blurred.content != original and original not in blurred.content
        with Image.open(io.BytesIO(blurred.content)) as shown:  # black and white squares: a grey smear
            assert max(shown.size) == preview.SIDE
            darkest, lightest = shown.convert("L").getextrema()
            assert lightest - darkest < 40, (darkest, lightest)
        assert browser.get(f"/media/{row.id}/reveal").status_code == 405  # the picture never comes by GET
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "media.reveal")) == 0
    finally:
        sam.close()


def test_reveal_serves_the_picture_no_store_and_every_reveal_is_audited(live_app, team):
    original = picture()
    sam, _, row = claimed_picture(live_app, team, original)
    sam.close()
    browser = browser_for(live_app, "sam")
    assert browser.post(f"/media/{row.id}/reveal").status_code == 400  # CSRF: a form elsewhere cannot reveal it
    for _ in range(2):
        shown = reveal(browser, row.id)
        assert shown.status_code == 200 and shown.content == original
        assert shown.headers["Content-Type"] == "image/png" and shown.headers["Cache-Control"] == "no-store"
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "media.reveal")).all()
    assert [(e.actor_id, e.target_id, e.details["first_adult"]) for e in events] == [(team["sam"].id, row.id, False)] * 2
    assert media_rows()[0].adult_viewed_at is None  # a volunteer's look is not an adult's


@pytest.mark.parametrize("who,preview_status,reveal_status", [
    (None, 302, 302), ("vic", 403, 403), ("sam", 200, 200), ("dana", 200, 200)])
def test_who_may_see_a_picture(live_app, team, who, preview_status, reveal_status):
    sam, _, row = claimed_picture(live_app, team, picture())
    sam.close()
    browser = browser_for(live_app, who)
    assert browser.get(f"/media/{row.id}/preview").status_code == preview_status
    assert reveal(browser, row.id).status_code == reveal_status
    if who is None:
        assert "/login" in browser.get(f"/media/{row.id}/preview").headers["Location"]


def test_adults_first_volunteer_sees_nothing_until_an_adult_has_looked(live_app, team, config):
    config["MEDIA_ADULT_FIRST"] = True
    original = picture()
    sam, claimed, row = claimed_picture(live_app, team, original)
    try:
        assert claimed["messages"][0]["media"][0]["held"] is True
        sam_browser, dana = browser_for(live_app, "sam"), browser_for(live_app, "dana")
        assert sam_browser.get(f"/media/{row.id}/preview").status_code == 403
        assert reveal(sam_browser, row.id).status_code == 403
        assert dana.get(f"/media/{row.id}/preview").status_code == 200
        assert reveal(dana, row.id).content == original
        update = sam.wait_for("message", lambda m: m["media"] and m["media"][0]["adult_viewed"])
        assert update["media"][0]["held"] is False
        assert reveal(sam_browser, row.id).content == original
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "media.reveal")
                                    .order_by(AuditEvent.id)).all()
        assert [(e.actor_id, e.details["first_adult"]) for e in events] == \
            [(team["dana"].id, True), (team["sam"].id, False)]
        assert media_rows()[0].adult_viewed_by_id == team["dana"].id
    finally:
        sam.close()


def test_other_kinds_are_listed_by_type_and_size_and_never_served(live_app, team):
    clip = b"#!AMR\n" + b"a" * 2000
    send_mms(live_app, "", [(clip, "audio/amr")])
    [row] = media_rows()
    browser = browser_for(live_app, "dana")
    assert browser.get(f"/media/{row.id}/preview").status_code == 404
    assert reveal(browser, row.id).status_code == 404
    conv = db.session.scalar(select(Conversation))
    dana = ConsoleClient(live_app.base_url, login(live_app.base_url, "dana@example.org", PASSWORD))
    try:
        dana.wait_for("hello")
        watched = dana.call("watch", {"conversation_id": conv.id})
        assert watched["messages"][0]["media"] == [{"id": row.id, "kind": "audio", "content_type": "audio/amr",
                                                    "size": len(clip), "state": "stored", "preview": False,
                                                    "adult_viewed": False, "held": False}]
    finally:
        dana.close()


# ---- retention and erasure ------------------------------------------------------------------------

def test_retention_and_erasure_remove_the_files(live_app, app_ctx):
    send_mms(live_app, "old picture", [(picture(), "image/png")], number="+15550108810")
    send_mms(live_app, "erase me", [(picture(), "image/png")], number="+15550108811")
    old, erased = media_rows()
    folder = media_dir(live_app)
    old_files, erased_files = ([folder / m.storage_key, folder / m.preview_key] for m in (old, erased))
    old_conv, erased_conv = old.message.conversation_id, erased.message.conversation_id
    assert all(p.exists() for p in old_files + erased_files)
    conv = db.session.get(Conversation, old_conv)
    conv.status, conv.closed_at = "closed", utcnow() - timedelta(days=120)
    db.session.commit()
    apply_retention.delay().get()
    assert not any(p.exists() for p in old_files) and all(p.exists() for p in erased_files)
    retention.erase_texter(db.session.get(Conversation, erased_conv).texter)
    assert not any(p.exists() for p in erased_files)
    assert media_rows() == []


def test_erasing_media_not_yet_fetched_deletes_it_at_twilio(live_app, app_ctx):
    sid = new_sid()
    url = fake_twilio.keep_media(live_app.account_sid, sid, picture(), "image/png")
    result = receive_inbound("+15550108812", "pending picture", sid, media=((url, "image/png"),))
    assert result.message.media[0].state == "pending"  # stored, its task not yet run (no announce)
    retention.erase_texter(db.session.get(Texter, result.conversation.texter_id))
    assert not fake_twilio.media_held(media_sid(url))


# ---- exactly once on PostgreSQL: concurrent tasks and a worker killed mid-fetch ---------------------

@pytest.fixture
def pg_app(live_app, redis_server, tmp_path):
    """A bare app on a migrated PostgreSQL, calling the live app's fake Twilio over HTTP."""
    with configured_postgres_app(tmp_path, redis_server.url, live_app.base_url) as app:
        yield app


def _pending_picture(app, data: bytes) -> tuple[int, str]:
    with app.app_context():
        sid = new_sid()
        url = fake_twilio.keep_media(app.config["TWILIO_ACCOUNT_SID"], sid, data, "image/png")
        result = receive_inbound("+15550108820", "", sid, media=((url, "image/png"),))
        media_id = result.message.media[0].id
        db.session.remove()
        return media_id, url


def test_postgres_concurrent_fetches_get_the_picture_once(pg_app):
    data = picture(size=(300, 200))
    media_id, url = _pending_picture(pg_app, data)
    outcomes, start = [], threading.Barrier(4)

    def run():
        with pg_app.app_context():
            start.wait()
            try:
                outcomes.append(fetch.fetch(media_id))
            except fetch.TransientFailure:  # saw another attempt in flight: its task would retry later
                outcomes.append("in flight")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with pg_app.app_context():
        row = db.session.get(MessageMedia, media_id)
        assert outcomes.count("stored") >= 1 and row.state == "stored" and row.attempts == 1
        assert fake_twilio.media_gets(media_sid(url)) == 1
        assert Path(pg_app.config["MEDIA_DIR"], row.storage_key).read_bytes() == data
        db.session.remove()


def test_postgres_a_fetch_whose_worker_died_is_redone_onto_the_same_file(pg_app):
    data = picture()
    media_id, url = _pending_picture(pg_app, data)
    with pg_app.app_context():
        row = db.session.get(MessageMedia, media_id)
        # A worker claimed it, chose its file and died: the claim is old, the file half there.
        row.state, row.attempts, row.storage_key = "fetching", 1, f"m{media_id}-died"
        row.fetch_started_at = utcnow() - fetch.stale_after() - timedelta(seconds=1)
        db.session.commit()
        Path(pg_app.config["MEDIA_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
        Path(pg_app.config["MEDIA_DIR"], row.storage_key).write_bytes(data[:10])
        assert fetch.fetch(media_id) == "stored"
        db.session.refresh(row)
        assert (row.attempts, row.storage_key) == (2, f"m{media_id}-died")
        assert Path(pg_app.config["MEDIA_DIR"], row.storage_key).read_bytes() == data
        assert not fake_twilio.media_held(media_sid(url))
        # A live attempt (not stale) is left alone: the task retries after it could have finished.
        row.state, row.fetch_started_at = "fetching", utcnow()
        db.session.commit()
        with pytest.raises(fetch.TransientFailure):
            fetch.fetch(media_id)
        db.session.remove()


def test_the_simulator_attaches_its_sample_picture_as_an_mms(live_app, app_ctx):
    browser = Browser(live_app.base_url)
    token = csrf_token(browser, "/simulator")
    assert 'id="sim-picture"' in browser.get("/simulator").text
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": "", "picture": True},
                        headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text
    [row] = media_rows()
    sample = Path(live_app.app.root_path, "data", "sample_picture.png").read_bytes()
    assert (row.content_type, row.state, (media_dir(live_app) / row.storage_key).read_bytes()) == \
        ("image/png", "stored", sample)
    thread = browser.get("/simulator/thread", params={"number": TEXTER}).json()["messages"]
    assert [(m["body"], m["media"]) for m in thread if m["direction"] == "out"] == [("", 1)]
    bad = browser.post("/simulator/send", json={"number": TEXTER, "body": "", "picture": "yes"},
                       headers={"X-CSRFToken": token})
    assert bad.status_code == 400
