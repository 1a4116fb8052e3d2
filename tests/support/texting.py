"""Acting as Twilio (signed webhooks) and as a volunteer (HTTP session + Socket.IO client) in tests."""
from __future__ import annotations

import queue
import re
import secrets
import threading
import time

import requests
import socketio
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from textline.extensions import db
from textline.models import Conversation
from textline.texting.twilio_gateway import RebasedHttpClient


def new_sid() -> str:
    return "SM" + secrets.token_hex(16)


def inbound_params(account_sid: str, from_: str, body: str, sid: str | None = None, to: str = "+15550001111"):
    sid = sid or new_sid()
    return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": account_sid, "From": from_,
            "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
            "ApiVersion": "2010-04-01"}


def twilio_signature(auth_token: str, url: str, params: dict) -> str:
    """Signed with the twilio library's own validator, exactly as Twilio signs its webhooks."""
    return RequestValidator(auth_token).compute_signature(url, params)


def post_signed(base_url: str, path: str, params: dict, auth_token: str, **kwargs) -> requests.Response:
    url = base_url + path
    headers = {"X-Twilio-Signature": twilio_signature(auth_token, url, params)}
    return requests.post(url, data=params, headers=headers, timeout=10, **kwargs)


def fake_twilio_client(base_url: str, account_sid: str, auth_token: str) -> Client:
    """The real twilio client, pointed at the fake Twilio: tests read 'what Twilio received' through it."""
    return Client(account_sid, auth_token, http_client=RebasedHttpClient(base_url + "/fake-twilio"))


def text_live(live_app, body: str, number: str):
    """A texter's signed SMS to the in-process app (tests/conftest.py's live_app), answered 200: returns
    the newest conversation, fresh from SQL."""
    response = post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, body),
                           live_app.auth_token)
    assert response.status_code == 200, response.text
    db.session.expire_all()
    return db.session.scalar(select(Conversation).order_by(Conversation.id.desc()))


def phone_live(live_app, number: str) -> list[str]:
    """What the texter's phone received from the in-process app's fake Twilio, oldest first."""
    got = fake_twilio_client(live_app.base_url, live_app.account_sid, live_app.auth_token).messages.list(to=number)
    return [m.body for m in reversed(got)]


def inject_faults(base_url: str, account_sid: str, auth_token: str, *faults: dict) -> None:
    """Queue faults in the fake Twilio for its next REST calls (see fake_twilio.control)."""
    requests.post(base_url + "/fake-twilio/_control", json={"faults": list(faults)}, timeout=5,
                  auth=(account_sid, auth_token)).raise_for_status()


def login(base_url: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base_url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(base_url + "/login", data={"email": email, "password": password, "csrf_token": token},
               timeout=10, allow_redirects=False)
    assert r.status_code == 302, f"login failed for {email}: {r.status_code}"
    return s


def console_opener(base_url: str, password: str):
    """A fixture body: yields open(name) -> a signed-in ConsoleClient for name@example.org that has had
    its hello; closes them all after the test."""
    opened = []

    def open_console(name: str) -> "ConsoleClient":
        client = ConsoleClient(base_url, login(base_url, f"{name}@example.org", password))
        opened.append(client)
        client.wait_for("hello")
        return client

    yield open_console
    # A client's close waits up to 3 s for the dev server's close frame; nobody needs to wait for it.
    for client in opened:
        threading.Thread(target=client.close, daemon=True).start()


class QueueView:
    """The queue as a console keeps it (textline/static/js/queue-view.js does the same in the browser):
    the whole queue from hello / `queue` / a shift change / `queue_sync`, then numbered one-row changes
    (`queue_delta`) applied in order, a row's contents swapped in by `queue_item`. A gap asks for the
    whole queue (`resync`)."""

    def __init__(self, resync):
        self.seq, self.rows, self.early, self.resync = None, {}, {}, resync

    def ordered(self) -> list[dict]:
        return sorted(self.rows.values(), key=lambda r: (r["order"], r["id"]))

    def reset(self, seq: int, rows: list[dict]) -> None:
        self.seq, self.rows = seq, {r["id"]: r for r in rows}
        self.early = {n: c for n, c in self.early.items() if n > seq}
        self._drain()

    def _drain(self) -> None:
        while self.seq + 1 in self.early:
            self.seq += 1
            change = self.early.pop(self.seq)
            if "put" in change:
                self.rows[change["put"]["id"]] = change["put"]
            else:
                self.rows.pop(change["gone"], None)

    def heard(self, event: str, data) -> bool:
        """Apply an event; True if it was about the queue."""
        if event == "hello" or (event == "queue_sync" and data.get("ok")):
            self.reset(data["queue_seq"], data["queue"])
        elif event == "queue":
            self.reset(data["seq"], data["rows"])
        elif event == "queue_delta":
            if self.seq is not None and data["seq"] <= self.seq:
                return True
            self.early[data["seq"]] = data
            if self.seq is None:
                self.resync()
                return True
            self._drain()
            if self.early:
                self.resync()
        elif event == "queue_item":
            if data["id"] in self.rows:
                self.rows[data["id"]] = {**data, "order": self.rows[data["id"]]["order"]}
        else:
            return False
        return True


class ConsoleClient:
    """A volunteer's console as a python-socketio client; records every event it receives, and after
    each one about the queue a `queue_view` event: the whole queue as the console now has it."""

    def __init__(self, base_url: str, session: requests.Session):
        self.events: "queue.Queue[tuple[str, object]]" = queue.Queue()
        self.seen: list[tuple[str, object]] = []
        self.sio = socketio.Client(reconnection=False)
        self.queue = QueueView(lambda: self.sio.start_background_task(self._resync))
        self._queue_lock = threading.Lock()
        self.sio.on("*", self._heard)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.sio.connect(base_url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)

    def _heard(self, event: str, data=None) -> None:
        self.events.put((event, data))
        with self._queue_lock:
            if self.queue.heard(event, data):
                self.events.put(("queue_view", self.queue.ordered()))

    def _resync(self) -> None:
        """As the browser console does (queue-view.js): ask for the whole queue until it comes, while
        connected. Closed (by the test, or by the server) before or while asking: no answer can come,
        and no test reads this console's queue any more."""
        while self.sio.connected:
            try:
                answer = self.sio.call("queue_sync", {}, timeout=10)
            except (socketio.exceptions.BadNamespaceError, socketio.exceptions.TimeoutError):
                answer = None
            if answer is not None and answer.get("ok"):
                self._heard("queue_sync", answer)
                return
            time.sleep(2)  # refused (queue or database briefly down) or unanswered: ask again

    def call(self, event: str, data: dict, timeout: float = 10):
        got = self.sio.call(event, data, timeout=timeout)
        if event == "shift" and got.get("ok"):  # the console takes the queue it is given on coming on shift
            with self._queue_lock:
                self.queue.reset(got["queue_seq"], got["queue"])
                self.events.put(("queue_view", self.queue.ordered()))
        return got

    def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 10):
        """Wait for an event whose data matches; events already seen count too."""
        for name, data in self.seen:
            if name == event and predicate(data):
                return data
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {event!r} event matched within {timeout}s; saw {[n for n, _ in self.seen]}")
            try:
                name, data = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append((name, data))
            if name == event and predicate(data):
                return data

    def close(self):
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            # Werkzeug's dev server (unit tests) never answers the WebSocket close frame; websocket-client
            # would wait 3 s for it on every disconnect.
            close = ws.close
            ws.close = lambda *args, **kwargs: close(timeout=0.2)
        self.sio.disconnect()


# A complete volunteer wrap-up (textline/console/wrap_up.py): ending a conversation as a volunteer needs one.
COMPLETE_WRAP_UP = {"outcome": "supported", "topics": ["school"], "risk": "low", "resources": [],
                    "follow_up": "none"}


def wrap_up(**changes) -> dict:
    return {**COMPLETE_WRAP_UP, **changes}
