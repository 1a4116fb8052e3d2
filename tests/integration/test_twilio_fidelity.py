"""Twilio's webhooks in the shapes Twilio documents them, each sent signed and then retried with the
same MessageSid, on SQLite and PostgreSQL: no signed webhook with a MessageSid and a sender is
refused or lost. The forms are written from Twilio's documented request parameters (Messaging
webhooks and status callbacks)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.servers import wait_until
from tests.support.texting import new_sid, post_signed
from textline.models import AuditEvent, Conversation, DeliveryReceipt, Message, MessageMedia, Texter

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

TEXTER = "+15550107101"
PICTURE = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0"
SECOND = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME1"


def inbound_form(s, sid: str, **fields) -> dict:
    """What Twilio posts for an incoming message; `None` leaves a field out."""
    form = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": s.account_sid,
            "From": TEXTER, "To": "+15550001111", "Body": "hello", "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01"}
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def picture(n: int, url: str, kind: str = "image/jpeg") -> dict:
    return {f"MediaUrl{n}": url, f"MediaContentType{n}": kind}


WHATSAPP_FROM = {"From": f"whatsapp:{TEXTER}", "To": "whatsapp:+15550001111", "WaId": TEXTER[1:],
                 "ProfileName": "Sam", "SmsStatus": "received"}
# name -> (form fields, the body stored, the media stored as (url, content type))
INBOUND = {
    "picture without Body": ({"Body": None, "NumMedia": "1", **picture(0, PICTURE)}, "",
                             [(PICTURE, "image/jpeg")]),
    "picture with an empty Body": ({"Body": "", "NumMedia": "1", **picture(0, PICTURE)}, "",
                                   [(PICTURE, "image/jpeg")]),
    "picture with text": ({"Body": "this is what he sent me", "NumMedia": "1", **picture(0, PICTURE, "image/png")},
                          "this is what he sent me", [(PICTURE, "image/png")]),
    "two pictures": ({"Body": None, "NumMedia": "2", **picture(0, PICTURE), **picture(1, SECOND, "video/mp4")},
                     "", [(PICTURE, "image/jpeg"), (SECOND, "video/mp4")]),
    "no Body, no media": ({"Body": None}, "", []),
    "short code, Messaging Service": ({"To": "55555", "MessagingServiceSid": "MG" + "0" * 32}, "hello", []),
    "WhatsApp text": ({**WHATSAPP_FROM, "Body": "hi from whatsapp"}, "hi from whatsapp", []),
    "WhatsApp button reply": ({**WHATSAPP_FROM, "Body": "Yes", "ButtonText": "Yes", "ButtonPayload": "yes-1",
                               "OriginalRepliedMessageSid": "SM" + "1" * 32}, "Yes", []),
    "WhatsApp picture without Body": ({**WHATSAPP_FROM, "Body": None, "NumMedia": "1", **picture(0, PICTURE)}, "",
                                      [(PICTURE, "image/jpeg")]),
}


@pytest.mark.parametrize("case", INBOUND)
def test_a_signed_inbound_is_stored_once_with_its_media(any_db, case):
    s = any_db
    fields, body, media = INBOUND[case]
    form = inbound_form(s, new_sid(), **fields)
    for _ in range(2):  # sent, then retried by Twilio
        response = post_signed(s.base_url, "/sms/inbound", form, s.auth_token)
        assert response.status_code == 200, response.text
    with s.db() as db:
        [msg] = db.scalars(select(Message).where(Message.twilio_sid == form["MessageSid"])).all()
        channel = db.scalar(select(Conversation.channel).where(Conversation.id == msg.conversation_id))
        stored = db.execute(select(MessageMedia.url, MessageMedia.content_type)
                            .where(MessageMedia.message_id == msg.id).order_by(MessageMedia.position)).all()
    assert (msg.body, msg.direction) == (body, "in")
    assert channel == ("whatsapp" if form["From"].startswith("whatsapp:") else "sms")
    assert [tuple(row) for row in stored] == media


# ---- status callbacks ---------------------------------------------------------------------------

def notices(s, kind: str = "delivery_failed") -> int:
    return int(s.redis().hget("tl:metrics:counters", f"notices|{kind}") or 0)


def receipts(s, sid: str) -> list[tuple[str, str | None]]:
    with s.db() as db:
        return [tuple(r) for r in db.execute(select(DeliveryReceipt.status, DeliveryReceipt.error_code)
                                             .where(DeliveryReceipt.twilio_sid == sid)
                                             .order_by(DeliveryReceipt.status)).all()]


def welcome_to(s, texter: str, *faults: dict) -> Message:
    """A new texter writes in; the welcome goes out through the fake Twilio (with `faults`) and its
    callbacks come back. Returns the welcome once its final status is recorded."""
    if faults:
        s.faults(*faults)
    assert post_signed(s.base_url, "/sms/inbound", inbound_form(s, new_sid(), From=texter), s.auth_token).ok

    def final():
        with s.db() as db:
            msg = db.scalar(select(Message).where(Message.kind == "welcome"))
        return msg if msg is not None and msg.status in FINAL else None
    return wait_until(final, timeout=30, what="the welcome's final status")


def callback(s, sid: str, status: str, error_code: str | None = None):
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": s.account_sid, "To": TEXTER, "From": "+15550001111", "ApiVersion": "2010-04-01",
            **({"ErrorCode": error_code} if error_code else {})}
    return post_signed(s.base_url, "/sms/status", form, s.auth_token)


FINAL = ("delivered", "undelivered", "failed", "refused")
# name -> (the final callback the fake Twilio sends, the status and error stored)
FAILURES = {
    "30003 unreachable handset": ({"report": "undelivered", "error_code": "30003"}, "undelivered", "30003"),
    "30006 landline or unreachable carrier": ({"report": "undelivered", "error_code": "30006"}, "undelivered", "30006"),
    "63018 WhatsApp rate limit": ({"report": "failed", "error_code": "63018"}, "failed", "63018"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_failed_delivery_is_recorded_once_and_adults_told_once(any_db, case):
    s = any_db
    fault, status, code = FAILURES[case]
    welcome = welcome_to(s, TEXTER, fault)
    assert (welcome.status, welcome.error_code) == (status, code)
    wait_until(lambda: notices(s) == 1, what="the 'could not be delivered' notice")
    assert callback(s, welcome.twilio_sid, status, code).status_code == 204  # Twilio retries the callback
    assert receipts(s, welcome.twilio_sid) == sorted([("sent", None), (status, code)])
    assert notices(s) == 1



def test_error_21610_opts_the_texter_out_as_stop_does(any_db):
    s = any_db
    welcome = welcome_to(s, TEXTER, {"report": "undelivered", "error_code": "21610"})
    assert (welcome.status, welcome.error_code) == ("undelivered", "21610")

    def opted_out():
        with s.db() as db:
            return db.scalar(select(Texter.opted_out))
    wait_until(opted_out, what="the texter opted out")
    with s.db() as db:
        conv = db.get(Conversation, welcome.conversation_id)
        assert conv.status == "closed" and conv.disposition["outcome"] == "opted_out"
        assert db.scalars(select(AuditEvent.details).where(AuditEvent.action == "texter.opt_out")).all() \
            == [{"conversation_id": conv.id, "how": "carrier"}]
        # No confirmation: the carrier blocks every text, and the sender refuses them now.
        assert db.scalar(select(Message).where(Message.kind == "opt_out_confirmation")) is None
    assert callback(s, welcome.twilio_sid, "undelivered", "21610").status_code == 204  # retried: no change
    assert notices(s) == 1 and len(receipts(s, welcome.twilio_sid)) == 2


def test_a_failure_reported_before_the_sid_is_recorded_still_tells_the_adults(any_db):
    """Twilio took the message but its answer was lost: the callbacks arrive while the welcome has no
    SID yet, and are applied when the next attempt finds the message at Twilio."""
    s = any_db
    welcome = welcome_to(s, TEXTER, {"status": 500, "store": True, "report": "undelivered", "error_code": "30003"})
    wait_until(lambda: notices(s) == 1, what="the 'could not be delivered' notice")
    assert (welcome.status, welcome.error_code, welcome.attempts) == ("undelivered", "30003", 1)
    with s.db() as db:
        first_receipt = db.scalar(select(DeliveryReceipt.received_at).where(
            DeliveryReceipt.twilio_sid == welcome.twilio_sid, DeliveryReceipt.status == "undelivered"))
    assert first_receipt < welcome.updated_at  # it came before the SID was recorded
    assert callback(s, welcome.twilio_sid, "undelivered", "30003").status_code == 204
    assert notices(s) == 1


def test_a_callback_naming_an_inbound_sid_changes_nothing(any_db):
    s = any_db
    welcome = welcome_to(s, TEXTER)
    with s.db() as db:
        [inbound] = db.scalars(select(Message).where(Message.direction == "in")).all()
    for _ in range(2):
        assert callback(s, inbound.twilio_sid, "undelivered", "30003").status_code == 204
    with s.db() as db:
        assert db.get(Message, inbound.id).status == "received"
    assert welcome.status == "delivered" and notices(s) == 0


def test_retried_callbacks_are_kept_once_per_status(any_db):
    s = any_db
    welcome = welcome_to(s, TEXTER)
    for status in ("sent", "delivered", "sent", "delivered", "read"):
        assert callback(s, welcome.twilio_sid, status).status_code == 204
    assert receipts(s, welcome.twilio_sid) == [("delivered", None), ("read", None), ("sent", None)]
