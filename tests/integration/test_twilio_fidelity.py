"""Twilio's webhooks in the shapes Twilio documents them, each sent signed and then retried with the
same MessageSid, on SQLite and PostgreSQL: no signed webhook with a MessageSid and a sender is
refused or lost. The forms are written from Twilio's documented request parameters (Messaging
webhooks and status callbacks)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.texting import new_sid, post_signed
from textline.models import Message, MessageMedia

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
        stored = db.execute(select(MessageMedia.url, MessageMedia.content_type)
                            .where(MessageMedia.message_id == msg.id).order_by(MessageMedia.position)).all()
    assert (msg.body, msg.direction) == (body, "in")
    assert [tuple(row) for row in stored] == media
