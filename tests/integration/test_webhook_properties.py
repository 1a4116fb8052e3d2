"""Properties of the two webhooks, on SQLite and PostgreSQL (Hypothesis): any correctly signed form,
with any unicode (NUL, lone surrogates, right-to-left text, 10 kB) and any field lengths, is never
answered with a 5xx, is stored at most once however often Twilio retries it, and a volunteer sees
exactly the text that arrived (with the characters no database can store replaced).

Lone surrogates cannot travel as UTF-8: they go on the wire as their raw (invalid) bytes, which the
web server (Werkzeug) keeps as percent escapes ("%ED%A0%80"); the form is signed as the server reads
it, as Twilio signs what it sends.
"""
from __future__ import annotations

import codecs
import itertools
import secrets
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.support.texting import inbound_params, twilio_signature
from textline.models import DeliveryReceipt, Message

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

EXAMPLES = settings(max_examples=50, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SID_LIMIT, STATUS_LIMIT, ERROR_CODE_LIMIT = 64, 16, 16
TWILIO_FIELDS = {"MessageSid", "SmsMessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia",
                 "NumSegments", "SmsStatus", "ApiVersion", "MessageStatus", "ErrorCode", "TextlineTraining"}

any_char = st.characters(exclude_categories=())  # every code point, surrogates included
awkward = st.sampled_from(["\x00", "\u202e", "\u200f", "\u05e9", "\u0627", "\ud83d", "\udc00", "\U0001f600",
                           "\ufeff", "\r", "\n", "%", "&", "=", "+"])
text = st.text(st.one_of(any_char, awkward), max_size=60)
# Up to about 10 kB, built from repeats so Hypothesis need not draw every character.
long_text = st.builds(lambda chunk, times: chunk * times, st.text(st.one_of(any_char, awkward), min_size=1,
                                                                   max_size=40), st.integers(1, 260))
body = st.one_of(text, long_text)
extra_fields = st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
                               .filter(lambda k: k not in TWILIO_FIELDS), text, max_size=3)
_unique = itertools.count()


def _percent_escape(error: UnicodeDecodeError):
    return "".join(f"%{byte:02X}" for byte in error.object[error.start:error.end]), error.end


codecs.register_error("tests.percent_escape", _percent_escape)


def on_the_wire(value: str) -> str:
    """The text the web server reads from what was sent: invalid UTF-8 left as percent escapes."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "tests.percent_escape")


def post_raw(s, path: str, params: dict) -> requests.Response:
    """Post the form as raw bytes (lone surrogates included), signed as the server will read it."""
    url = s.base_url + path
    data = urlencode(params, encoding="utf-8", errors="surrogatepass")
    signature = twilio_signature(s.auth_token, url, {k: on_the_wire(v) for k, v in params.items()})
    return requests.post(url, data=data, timeout=30, headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})


def unique_sid(prefix: str) -> str:
    """A generated SID made unique (a repeat would be a retry of an earlier example's text)."""
    return f"{prefix}{next(_unique):04d}{secrets.token_hex(2)}"


def stored(s, model, sid: str) -> list:
    if "\x00" in sid:  # PostgreSQL cannot even be asked about it; it was refused before reaching SQL
        return []
    with s.db() as db:
        return db.scalars(select(model).where(model.twilio_sid == sid)).all()


@pytest.fixture
def advisor(any_db):
    any_db.user("ada@example.org", "supervisor")
    console = any_db.console("ada@example.org")
    any_db.track(console)
    console.wait_for("hello")
    return console


def test_any_signed_inbound_is_stored_once_and_shown_as_it_arrived(any_db, advisor):
    s = any_db
    texter = f"+1555{secrets.randbelow(10**7):07d}"

    @EXAMPLES
    @given(sid_start=st.text(st.one_of(any_char, awkward), max_size=72), body=body, extra=extra_fields)
    def check(sid_start, body, extra):
        params = {**inbound_params(s.account_sid, texter, body, unique_sid(sid_start)), **extra}
        sid = on_the_wire(params["MessageSid"])
        answers = {post_raw(s, "/sms/inbound", params).status_code for _ in range(2)}  # sent, then retried
        if len(sid) > SID_LIMIT or "\x00" in sid:
            assert answers == {400} and stored(s, Message, sid) == []
            return
        assert answers == {200}
        [msg] = stored(s, Message, sid)
        expected = on_the_wire(body).replace("\x00", "\ufffd")
        assert msg.body == expected
        assert msg.replaced_chars == (on_the_wire(body).count("\x00") or None)
        seen = advisor.call("open", {"conversation_id": msg.conversation_id})
        [shown] = [m for m in seen["messages"] if m["id"] == msg.id]
        assert shown["body"] == expected

    check()


def test_any_signed_status_callback_is_recorded_or_refused_never_a_5xx(any_db):
    s = any_db

    @EXAMPLES
    @given(sid_start=st.text(st.one_of(any_char, awkward), max_size=72),
           status=st.one_of(st.sampled_from(["sent", "delivered", "undelivered", "failed", "read"]), text),
           error_code=st.one_of(st.just(""), st.sampled_from(["30003", "30006", "21610", "63018"]), text),
           extra=extra_fields)
    def check(sid_start, status, error_code, extra):
        params = {"MessageSid": unique_sid(sid_start), "MessageStatus": status, "ErrorCode": error_code,
                  "AccountSid": s.account_sid, **extra}
        sid, state, code = (on_the_wire(params[k]) for k in ("MessageSid", "MessageStatus", "ErrorCode"))
        answers = {post_raw(s, "/sms/status", params).status_code for _ in range(2)}
        rows = stored(s, DeliveryReceipt, sid)
        refused = (len(sid) > SID_LIMIT or len(state) > STATUS_LIMIT or len(code) > ERROR_CODE_LIMIT
                   or any("\x00" in v for v in (sid, state, code)) or not state)
        if refused:
            assert answers == {400} and rows == []
            return
        assert answers == {204}
        assert [(r.status, r.error_code) for r in rows] == [(state, code or None)]  # once, however retried

    check()
