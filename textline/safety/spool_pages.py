"""Paging an adult about a high-risk text that waits in the spool because SQL is down.

The normal page is a Page row in SQL that a worker sends (escalation.py, texting/delivery.py): it
cannot work without SQL. So while SQL is down, a high-risk spooled text pages the first adult of the
rota mirrored in Redis (pager_cache.py) straight through the Twilio gateway, once per texter:

- The idempotency key is ours (Twilio's Messages API has none): a Redis claim on the texter's key
  (SET NX), taken before the send. A Twilio retry of the same text, another high-risk text of the same
  texter, or the drain finding SQL still down can then never page again. The claim also keeps what the
  send gave (the advisor, the words, Twilio's SID and status), never the texter's number.
- When the drain stores that texter's high-risk text and opens its risk escalation, the claim becomes
  the escalation's first page in the same transaction (record(): a Page row, seq 0, as sent, and
  pages_sent = 1), so the sweep never pages for it again and goes on to the next adult on the rota
  only if nobody acknowledges within PAGE_REPEAT_SECONDS of the drain. Then the claim is released.
- A send whose outcome is unknown (timeout, crash) is recorded "unconfirmed" (or "submitting"): the
  outbox sweep asks Twilio whether it went out before it sends again (delivery.deliver), as for any page.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import update

from textline.accounts import audit
from textline.extensions import db
from textline.models import Escalation, Page, utcnow
from textline.ops import logs, metrics
from textline.redis_store import get_redis, key
from textline.safety import auto_texts, notices, pager_cache
from textline.safety.deadlines import seconds
from textline.texting import twilio_gateway
from textline.texting.privacy import alias_for, phone_hash

# A claim outlives any outage it can matter for; the drain releases it as soon as it is stored.
CLAIM_SECONDS = 7 * 24 * 3600
log = logging.getLogger(__name__)


@dataclass
class SpoolPage:
    message_sid: str            # the spooled text that raised it
    user_id: int                # the advisor paged
    body: str
    status: str                 # "submitting", then Twilio's status, "unconfirmed" or "failed"
    at: str                     # when the send started (ISO, UTC)
    twilio_sid: str | None = None
    error_code: str | None = None

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def texter_key(number: str) -> str:
    return phone_hash(number, current_app.config["PHONE_HASH_KEY"])


def _claim_key(texter: str) -> str:
    return key("spool", "page", texter)


def page_spooled_text(number: str, message_sid: str) -> SpoolPage | None:
    """Page the first adult on the mirrored rota about this texter, unless already paged. Returns the page
    sent now (None: already paged, no rota mirrored, or Redis does not answer)."""
    advisors = pager_cache.cached()
    hashed = texter_key(number)
    alias = alias_for(hashed)
    if not advisors:
        log.error("a high-risk text waits in the spool and no pager number is mirrored in Redis: nobody paged")
        return None
    advisor = advisors[0]
    page = SpoolPage(message_sid, advisor.user_id, auto_texts.spool_page(alias), "submitting", utcnow().isoformat())
    r = get_redis()
    try:
        if not r.set(_claim_key(hashed), page.dumps(), nx=True, ex=CLAIM_SECONDS):
            return None  # this texter's page is out already (or on its way)
    except RedisError:
        return None
    logs.sensitive(advisor.phone, page.body)
    try:
        page.twilio_sid, page.status = twilio_gateway.send_sms(advisor.phone, page.body)
    except Exception as exc:
        permanent = twilio_gateway.is_permanent(exc)
        page.status = "failed" if permanent else "unconfirmed"
        page.error_code = str(getattr(exc, "code", "") or "4xx") if permanent else None
        log.error("page from the spool %s: %s", page.status, exc.__class__.__name__)
    try:
        r.set(_claim_key(hashed), page.dumps(), xx=True, keepttl=True)  # xx: the drain may have taken it
    except RedisError:
        pass  # left "submitting": the outbox sweep asks Twilio before sending it again
    if page.twilio_sid:
        metrics.inc("pages", "out")
        log.info("page sent from the spool", extra={"advisor_id": advisor.user_id})
    elif page.status == "failed":
        notices.notify_supervisors("page_failed", f"The page to {advisor.name} about {alias} failed "
                                   f"(error {page.error_code}).", level="urgent", alias=alias, spooled=True)
    return page


def claimed_for(number: str) -> SpoolPage | None:
    """For the drain: the page already sent about this texter while their texts waited, if any."""
    try:
        raw = get_redis().get(_claim_key(texter_key(number)))
    except RedisError:
        return None
    return SpoolPage(**json.loads(raw)) if raw else None


def release(number: str) -> None:
    """The drain stored it: the next outage pages afresh."""
    release_key(texter_key(number))


def release_key(texter: str) -> None:
    """By the texter's key (an erasure has no number to hand once it is done)."""
    try:
        get_redis().delete(_claim_key(texter))
    except RedisError:
        pass


def record(esc: Escalation, page: SpoolPage) -> Page:
    """In the drain's transaction that opened `esc`: the page already sent is its first page."""
    sent_at = datetime.fromisoformat(page.at)
    db.session.execute(update(Escalation).where(Escalation.id == esc.id).values(
        pages_sent=1, next_page_at=utcnow() + seconds("PAGE_REPEAT_SECONDS")))
    row = Page(escalation_id=esc.id, seq=0, user_id=page.user_id, body=page.body, status=page.status,
               error_code=page.error_code, twilio_sid=page.twilio_sid, attempts=1, submit_started_at=sent_at,
               created_at=sent_at)
    db.session.add(row)
    audit.record("escalation.page", None, "escalation", esc.id, commit=False, advisor_id=page.user_id, seq=0,
                 from_spool=True)
    db.session.flush()
    db.session.refresh(esc)
    return row
