"""What a correctly signed webhook may carry, on SQLite and PostgreSQL: it is stored or refused with a
clear 4xx, never a 500 (Twilio retries a 5xx until it gives up, and the text is lost). Characters
PostgreSQL cannot store are replaced and the replacement noted; over-long fields are refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.texting import inbound_params, new_sid, post_signed
from textline.models import DeliveryReceipt, Message

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

TEXTER = "+15550107001"
REPLACEMENT = "\ufffd"


def post(s, path: str, params: dict):
    return post_signed(s.base_url, path, params, s.auth_token)


def stored(s, sid: str) -> list[Message]:
    with s.db() as db:
        return db.scalars(select(Message).where(Message.twilio_sid == sid)).all()


def counted(s, endpoint: str, outcome: str) -> int:
    return int(s.redis().hget("tl:metrics:counters", f"webhooks|{endpoint}|{outcome}") or 0)


def test_a_nul_in_the_body_is_replaced_noted_and_stored_once(any_db):
    s = any_db
    params = inbound_params(s.account_sid, TEXTER, "help\x00 me\x00")
    for _ in range(2):  # Twilio's retry stores nothing more
        assert post(s, "/sms/inbound", params).status_code == 200
    [msg] = stored(s, params["MessageSid"])
    assert msg.body == f"help{REPLACEMENT} me{REPLACEMENT}"
    assert msg.replaced_chars == 2


def test_a_clean_body_is_stored_as_sent_and_not_marked(any_db):
    s = any_db
    params = inbound_params(s.account_sid, TEXTER, "\u05e9\u05dc\u05d5\u05dd \U0001f600 hi")
    assert post(s, "/sms/inbound", params).status_code == 200
    [msg] = stored(s, params["MessageSid"])
    assert msg.body == params["Body"] and msg.replaced_chars is None


def test_an_over_long_message_sid_is_refused_with_400_and_counted(any_db):
    s = any_db
    params = inbound_params(s.account_sid, TEXTER, "hello", sid="SM" + "a" * 63)
    for attempt in (1, 2):
        response = post(s, "/sms/inbound", params)
        assert response.status_code == 400 and "MessageSid" in response.text
        assert counted(s, "inbound", "too_long") == attempt
    assert stored(s, params["MessageSid"]) == []


def test_a_64_character_message_sid_is_stored(any_db):
    s = any_db
    params = inbound_params(s.account_sid, TEXTER, "hello", sid="SM" + "b" * 62)
    assert post(s, "/sms/inbound", params).status_code == 200
    assert len(stored(s, params["MessageSid"])) == 1


@pytest.mark.parametrize("field,value", [("MessageStatus", "delivered" + "d" * 8), ("ErrorCode", "3" * 17),
                                         ("MessageSid", "SM" + "c" * 63)])
def test_an_over_long_status_callback_field_is_refused_with_400_and_counted(any_db, field, value):
    s = any_db
    params = {"MessageSid": new_sid(), "MessageStatus": "undelivered", "ErrorCode": "30003",
              "AccountSid": s.account_sid, field: value}
    for attempt in (1, 2):
        response = post(s, "/sms/status", params)
        assert response.status_code == 400 and field in response.text
        assert counted(s, "status", "too_long") == attempt
    with s.db() as db:  # (a previous test's texts may still report in: count this one's only)
        assert db.scalar(select(func.count()).select_from(DeliveryReceipt)
                         .where(DeliveryReceipt.twilio_sid == params["MessageSid"])) == 0


@pytest.mark.parametrize("endpoint", ["inbound", "status"])
def test_a_message_sid_with_a_nul_is_refused_with_400(any_db, endpoint):
    s = any_db
    sid = "SM\x00" + "d" * 30
    params = (inbound_params(s.account_sid, TEXTER, "hello", sid=sid) if endpoint == "inbound"
              else {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": s.account_sid})
    response = post(s, f"/sms/{endpoint}", params)
    assert response.status_code == 400 and "MessageSid" in response.text
    assert counted(s, endpoint, "malformed") == 1
