"""A picture from the simulator (Twilio's MMS wire format, signed) fetched by the real Celery worker from
the fake Twilio over HTTP: stored once, deleted at Twilio, retried through injected faults. Prints the
measured fetch timings (README, "Pictures and other media")."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.servers import wait_until
from tests.support.web import Browser, csrf_token
from textline.models import Message, MessageMedia

pytestmark = pytest.mark.integration

TEXTER = "+15550108901"


def send_picture(s, body: str = "look") -> None:
    browser = Browser(s.base_url)
    token = csrf_token(browser, "/simulator")
    sent = browser.post("/simulator/send", json={"number": TEXTER, "body": body, "picture": True},
                        headers={"X-CSRFToken": token})
    assert sent.status_code == 200, sent.text


def media_row(s, body: str) -> MessageMedia | None:
    with s.db() as session:
        return session.scalar(select(MessageMedia).join(Message, MessageMedia.message_id == Message.id)
                              .where(Message.body == body))


def fake_media_keys(s) -> list[str]:
    return list(s.redis().scan_iter("tl:fake:media:*"))


def fetched(s, body: str, timeout: float = 30) -> MessageMedia:
    return wait_until(lambda: (row := media_row(s, body)) is not None and row.state == "stored"
                      and row.removed_from_twilio_at is not None and row, timeout=timeout,
                      what=f"the picture with {body!r} fetched and deleted at Twilio")


def test_the_worker_fetches_a_simulator_picture_once_and_deletes_it_at_twilio(live):
    s = live
    sample = Path(__file__).resolve().parents[2] / "textline" / "data" / "sample_picture.png"
    timings = []
    for n in range(5):
        started = time.monotonic()
        send_picture(s, f"picture {n}")
        row = fetched(s, f"picture {n}")
        timings.append(time.monotonic() - started)
        assert (row.attempts, row.size, row.content_type) == (1, sample.stat().st_size, "image/png")
        assert (Path(s.env["TEXTLINE_INSTANCE_DIR"]) / "media" / row.storage_key).read_bytes() == sample.read_bytes()
        gets = [k for k in s.redis().scan_iter("tl:fake:media_gets:*")]
        assert len(gets) == n + 1 and all(s.redis().get(k) == "1" for k in gets)
    assert fake_media_keys(s) == []
    print(f"\nwebhook to picture stored and deleted at Twilio, real worker, 5 runs: median "
          f"{statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms")


def test_the_worker_retries_a_failing_fetch_and_still_fetches_once(live):
    s = live
    s.faults({"on": "media", "status": 500}, {"on": "media", "status": 502}, {"on": "media_delete", "status": 503})
    started = time.monotonic()
    send_picture(s, "retried")
    row = fetched(s, "retried", timeout=60)
    took = time.monotonic() - started
    assert row.attempts == 3
    [gets] = list(s.redis().scan_iter("tl:fake:media_gets:*"))
    assert s.redis().get(gets) == "1" and fake_media_keys(s) == []
    print(f"\nwith two failed GETs and a failed DELETE (backoff 1 s, 2 s, 4 s): {took:.1f} s")
