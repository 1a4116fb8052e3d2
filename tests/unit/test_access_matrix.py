"""Who may use what: every HTTP route and every console Socket.IO event, allowed and refused.

ROUTES must name every endpoint the app has: a new route fails test_every_route_is_classified until
someone decides who may use it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.state import make_user
from tests.support.texting import ConsoleClient, inbound_params, login, post_signed
from tests.support.web import Browser, sign_in
from textline.extensions import db
from textline.models import CannedResponse, Conversation, Texter
from textline.texting import queue

PUBLIC, TWILIO, SIGNED_IN, VOLUNTEER, SUPERVISOR, ADMIN, TOKEN, FAKE_TWILIO, SCRAPER = (
    "public", "twilio", "signed-in", "volunteer", "supervisor", "admin", "token", "fake-twilio", "scraper")

# endpoint -> (who may use it, method, a concrete path)
ROUTES = {
    "static": (PUBLIC, "GET", "/static/css/textline.css"),
    "index": (PUBLIC, "GET", "/"),
    "health.healthz": (PUBLIC, "GET", "/healthz"),
    "health.readyz": (PUBLIC, "GET", "/readyz"),  # up/down per component only; nginx keeps it internal
    "health.timers_health": (PUBLIC, "GET", "/healthz/timers"),  # running or not, and which part
    "metrics.metrics": (SCRAPER, "GET", "/metrics"),  # bearer token, allow-listed address, or an admin
    "auth.login": (PUBLIC, "GET", "/login"),
    "auth.logout": (SIGNED_IN, "POST", "/logout"),
    "auth.logout_everywhere": (SIGNED_IN, "POST", "/logout-everywhere"),
    "auth.set_password": (TOKEN, "GET", "/set-password/x"),
    "webhooks.inbound": (TWILIO, "POST", "/sms/inbound"),
    "webhooks.status": (TWILIO, "POST", "/sms/status"),
    "console.console": (VOLUNTEER, "GET", "/console"),
    "safety.supervise": (SUPERVISOR, "GET", "/supervise"),
    "safety.resources": (VOLUNTEER, "GET", "/api/resources"),
    "admin.index": (ADMIN, "GET", "/admin"),
    "admin.users": (ADMIN, "GET", "/admin/users"),
    "admin.create_user": (ADMIN, "POST", "/admin/users"),
    "admin.edit_user": (ADMIN, "GET", "/admin/users/{user_id}"),
    "admin.update_user": (ADMIN, "POST", "/admin/users/{user_id}"),
    "admin.reset_password": (ADMIN, "POST", "/admin/users/{user_id}/reset-password"),
    "admin.sign_out_user": (ADMIN, "POST", "/admin/users/{user_id}/sign-out"),
    "admin.sign_in_waits": (ADMIN, "GET", "/admin/sign-in-waits"),
    "admin.lift_sign_in_wait": (ADMIN, "POST", "/admin/sign-in-waits/lift"),
    "admin.audit_log": (ADMIN, "GET", "/admin/audit"),
    "admin.texters": (ADMIN, "GET", "/admin/texters"),
    "admin.export_texter": (ADMIN, "POST", "/admin/texters/export"),
    "admin.erase_texter": (ADMIN, "POST", "/admin/texters/erase"),
    "canned.for_console": (VOLUNTEER, "GET", "/api/saved-replies"),  # the console's "/" picker reads them
    "canned.index": (ADMIN, "GET", "/admin/saved-replies"),
    "canned.create": (ADMIN, "POST", "/admin/saved-replies"),
    "canned.edit": (ADMIN, "GET", "/admin/saved-replies/{reply_id}"),
    "canned.update": (ADMIN, "POST", "/admin/saved-replies/{reply_id}"),
    "canned.set_active": (ADMIN, "POST", "/admin/saved-replies/{reply_id}/active"),
    "duty.conversation": (SUPERVISOR, "GET", "/duty/conversations/{conversation_id}"),
    "duty.mark": (SUPERVISOR, "POST", "/duty/conversations/{conversation_id}/mark"),
    "duty.decide": (SUPERVISOR, "POST", "/duty/conversations/{conversation_id}/decision"),
    "duty.emergency": (SUPERVISOR, "POST", "/duty/conversations/{conversation_id}/emergency"),
    "duty.hold": (ADMIN, "POST", "/duty/conversations/{conversation_id}/hold"),
    # A texter's picture: signed in, then the conversation's volunteer or an adult (tests/unit/test_media.py
    # checks who per conversation; here an unknown id is a 404 for everyone signed in).
    "media.preview": (VOLUNTEER, "GET", "/media/999999/preview"),
    "media.reveal": (VOLUNTEER, "POST", "/media/999999/reveal"),
    "insights.page": (SUPERVISOR, "GET", "/insights"),
    "blocklist.review": (SUPERVISOR, "GET", "/supervise/blocks"),
    "blocklist.change": (SUPERVISOR, "POST", "/supervise/blocks/999"),  # an unknown block: refused after the role check
    "blocklist.lift": (SUPERVISOR, "POST", "/supervise/blocks/999/lift"),
    "insights.export": (SUPERVISOR, "GET", "/insights/export.csv"),
    "triage.page": (SUPERVISOR, "GET", "/supervise/triage"),  # the scorer against adults' labels
    # Admins' lexicon edits: an empty form is refused (400) after the role check; no edit 999 (404).
    "lexicon.page": (ADMIN, "GET", "/admin/lexicon"),
    "lexicon.preview": (ADMIN, "POST", "/admin/lexicon/preview"),
    "lexicon.save": (ADMIN, "POST", "/admin/lexicon"),
    "lexicon.remove": (ADMIN, "POST", "/admin/lexicon/999/remove"),
    "risk_models.index": (ADMIN, "GET", "/admin/risk-models"),
    "risk_models.shadow": (ADMIN, "POST", "/admin/risk-models/999999/shadow"),  # unknown model: refused after the role check
    "risk_models.promote": (ADMIN, "POST", "/admin/risk-models/999999/promote"),
    "risk_models.discard": (ADMIN, "POST", "/admin/risk-models/999999/discard"),
    "risk_models.use_packaged": (ADMIN, "POST", "/admin/risk-models/packaged"),
    # Demo/training only (off when real Twilio credentials are configured):
    "simulator.page": (PUBLIC, "GET", "/simulator"),
    "simulator.send": (PUBLIC, "POST", "/simulator/send"),
    "simulator.thread": (PUBLIC, "GET", "/simulator/thread?number=%2B15550100000"),
    "fake_twilio.create_message": (FAKE_TWILIO, "POST", "/fake-twilio/2010-04-01/Accounts/{sid}/Messages.json"),
    "fake_twilio.list_messages": (FAKE_TWILIO, "GET", "/fake-twilio/2010-04-01/Accounts/{sid}/Messages.json"),
    "fake_twilio.fetch_message": (FAKE_TWILIO, "GET", "/fake-twilio/2010-04-01/Accounts/{sid}/Messages/SMx.json"),
    "fake_twilio.fetch_media": (FAKE_TWILIO, "GET", "/fake-twilio/2010-04-01/Accounts/{sid}/Messages/SMx/Media/MEx"),
    "fake_twilio.delete_media": (FAKE_TWILIO, "DELETE", "/fake-twilio/2010-04-01/Accounts/{sid}/Messages/SMx/Media/MEx"),
    "fake_twilio.control": (FAKE_TWILIO, "POST", "/fake-twilio/_control"),
}
RANK = {VOLUNTEER: 1, SUPERVISOR: 2, ADMIN: 3}
ROLES = ["anonymous", VOLUNTEER, SUPERVISOR, ADMIN]


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTES) == set(), "classify the new routes in ROUTES"
    assert set(ROUTES) - endpoints == set()


@pytest.fixture
def accounts(app_ctx):
    return {role: make_user(db.session, f"{role}@example.org", role) for role in (VOLUNTEER, SUPERVISOR, ADMIN)}


@pytest.fixture
def conversation(app_ctx):
    conv = Conversation(texter=Texter(phone_hash="matrix", alias="Matrix Fox"), status="waiting", risk_reasons=[])
    db.session.add(conv)
    db.session.commit()
    return conv


@pytest.fixture
def saved_reply(app_ctx):
    reply = CannedResponse(title="Greeting", body="Hi, thanks for texting.")
    db.session.add(reply)
    db.session.commit()
    return reply


def _client(live_app, role):
    client = Browser(live_app.base_url)
    client.app = live_app.app
    if role != "anonymous":
        sign_in(client, f"{role}@example.org")
    return client


def _request(client, method, path):
    # CSRF is tested on its own (test_accounts); here the question is only who gets through.
    client.app.config["WTF_CSRF_ENABLED"] = False
    try:
        return client.open(path, method)
    finally:
        client.app.config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize("endpoint", sorted(e for e, (who, _, _) in ROUTES.items() if who in RANK or who == SIGNED_IN))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(accounts, saved_reply, conversation, live_app, endpoint, role):
    who, method, path = ROUTES[endpoint]
    path = path.format(user_id=accounts[VOLUNTEER].id, sid=live_app.account_sid, reply_id=saved_reply.id,
                       conversation_id=conversation.id)
    response = _request(_client(live_app, role), method, path)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    elif who == SIGNED_IN:  # signing out: done, back to the login page
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    elif RANK[role] >= RANK[who]:
        assert response.status_code not in (401, 403) and "/login" not in response.headers.get("Location", "")
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role,status", [("anonymous", 401), (VOLUNTEER, 403), (SUPERVISOR, 403), (ADMIN, 200)])
def test_metrics_are_for_admins_and_scrapers_only(live_app, accounts, role, status):
    assert _request(_client(live_app, role), "GET", "/metrics").status_code == status


@pytest.mark.parametrize("endpoint", ["webhooks.inbound", "webhooks.status"])
def test_twilio_routes_need_twilio_s_signature_whoever_asks(live_app, accounts, endpoint):
    _, method, path = ROUTES[endpoint]
    assert _request(_client(live_app, ADMIN), method, path).status_code == 403


@pytest.mark.parametrize("endpoint", sorted(e for e, (who, _, _) in ROUTES.items() if who == FAKE_TWILIO))
def test_fake_twilio_needs_the_account_credentials(accounts, live_app, endpoint):
    _, method, path = ROUTES[endpoint]
    response = _request(_client(live_app, ADMIN), method, path.format(sid=live_app.account_sid))
    assert response.status_code == 401


def test_demo_only_routes_are_absent_with_real_twilio(tmp_path):
    from textline.app import create_app
    from textline.config import load_config

    cfg = load_config({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "real", "SECRET_KEY": "k" * 48,
                       "TEXTLINE_INSTANCE_DIR": str(tmp_path)})
    assert not cfg["SIMULATOR_ENABLED"] and not cfg["FAKE_TWILIO_ENABLED"]
    assert cfg["TWILIO_API_BASE"] == ""


# ---- Socket.IO events -----------------------------------------------------------------------------

# namespace -> event -> who may use it. CONNECTION = the handshake itself; VOLUNTEER events are open to
# every signed-in account and check conversation access inside (permissions.py), tested below.
CONNECTION, DEMO = "connection", "demo"
SOCKET_EVENTS = {
    "/": {
        "connect": CONNECTION, "disconnect": CONNECTION, "heartbeat": CONNECTION,
        "shift": VOLUNTEER, "queue_sync": VOLUNTEER, "claim": VOLUNTEER, "open": VOLUNTEER, "reply": VOLUNTEER, "end": VOLUNTEER,
        "ask_adult": VOLUNTEER, "transfer_targets": VOLUNTEER, "transfer": VOLUNTEER,
        "supervise_snapshot": SUPERVISOR, "watch": SUPERVISOR, "acknowledge": SUPERVISOR, "whisper": SUPERVISOR,
        "adult_join": SUPERVISOR, "take_over": SUPERVISOR, "work_list": SUPERVISOR, "block_texter": SUPERVISOR,
        # Volunteer wellbeing (textline/wellbeing/sockets.py): a volunteer's own state and choices...
        "wellbeing": VOLUNTEER, "ready_to_go_on": VOLUNTEER, "need_moment": VOLUNTEER, "check_out": VOLUNTEER,
        # ...and the adults' panel, debriefs and sending a conversation back to the queue.
        "volunteer_board": SUPERVISOR, "debrief_take": SUPERVISOR, "debrief_done": SUPERVISOR,
        "hand_back": SUPERVISOR,
        # Adults' one-click risk labels (textline/triage/sockets.py).
        "risk_label": SUPERVISOR,
        # An adult corrects a conversation's language (textline/console/language_events.py).
        "set_language": SUPERVISOR,
    },
    "/simulator": {"connect": DEMO, "watch": DEMO},  # only registered usefully with SIMULATOR_ENABLED
}


def test_every_socket_event_is_classified(app):
    from textline.extensions import socketio

    registered = {ns: set(handlers) for ns, handlers in socketio.server.handlers.items()}
    for ns, handler in socketio.server.namespace_handlers.items():  # Namespace classes: on_<event> methods
        registered.setdefault(ns, set()).update(name[3:] for name in dir(handler) if name.startswith("on_"))
    assert registered == {ns: set(events) for ns, events in SOCKET_EVENTS.items()}, \
        "classify the new Socket.IO events in SOCKET_EVENTS"


def test_adult_only_socket_events_refuse_volunteers(live_app, app_ctx):
    make_user(db.session, "sam@example.org", on_shift=True)
    conv = _conversation(live_app)
    sam = _console(live_app, "sam@example.org")
    try:
        sam.wait_for("hello")
        for event, who in SOCKET_EVENTS["/"].items():
            if who == SUPERVISOR:
                answer = sam.call(event, {"conversation_id": conv, "escalation_id": 1, "body": "x"})
                assert answer["code"] == "forbidden", (event, answer)
    finally:
        sam.close()

def _conversation(live_app, number="+15550102222") -> int:
    post_signed(live_app.base_url, "/sms/inbound", inbound_params(live_app.account_sid, number, "hi"),
                live_app.auth_token)
    return db.session.scalar(select(Conversation.id).order_by(Conversation.id.desc()))


def _console(live_app, email) -> ConsoleClient:
    return ConsoleClient(live_app.base_url, login(live_app.base_url, email, "a-long-password"))


def test_socket_refuses_anonymous_connections(live_app):
    import requests
    import socketio

    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_app.base_url, transports=["websocket"], wait_timeout=5)
    assert requests.get(live_app.base_url + "/healthz", timeout=5).ok


def test_socket_events_check_role_and_assignment(live_app, app_ctx):
    sam = make_user(db.session, "sam@example.org", on_shift=True)
    make_user(db.session, "alex@example.org", on_shift=True)
    make_user(db.session, "offshift@example.org")
    make_user(db.session, "dana@example.org", "supervisor")
    mine, other = _conversation(live_app, "+15550103333"), _conversation(live_app, "+15550104444")
    clients = {e: _console(live_app, f"{e}@example.org") for e in ("sam", "alex", "offshift", "dana")}
    try:
        c = clients
        # Off shift: no queue, no claiming.
        assert c["offshift"].wait_for("hello")["queue"] == []
        assert c["offshift"].call("claim", {"conversation_id": mine})["code"] == "off_shift"
        assert len(c["sam"].wait_for("hello")["queue"]) == 2
        assert c["sam"].call("claim", {"conversation_id": mine})["ok"]
        # Another volunteer cannot read, write in or end Sam's conversation...
        for event, data in [("open", {}), ("reply", {"body": "hi"}), ("end", {}), ("claim", {}),
                            ("transfer", {"volunteer_id": c["alex"].call("shift", {"on": True})["me"]["id"],
                                          "note": "mine now"}), ("transfer_targets", {})]:
            res = c["alex"].call(event, {"conversation_id": mine, **data})
            assert not res["ok"] and res["code"] in ("forbidden", "taken"), (event, res)
        # ...nor one still waiting in the queue (they must claim it first).
        assert c["alex"].call("open", {"conversation_id": other})["code"] == "forbidden"
        # The adult can read any transcript.
        assert c["dana"].call("open", {"conversation_id": mine})["ok"]
        assert c["dana"].call("open", {"conversation_id": other})["ok"]
        # Sam's own actions work.
        assert c["sam"].call("open", {"conversation_id": mine})["ok"]
        assert c["sam"].call("reply", {"conversation_id": mine, "body": "hey", "client_id": "x"})["ok"]
        # Nonsense input gets a clear refusal, not a crash.
        assert c["sam"].call("open", {"conversation_id": "drop table"})["code"] == "not_found"
        assert c["sam"].call("reply", {"conversation_id": mine, "body": 42})["code"] == "empty"
    finally:
        for client in clients.values():
            client.close()
    db.session.expire_all()
    assert db.session.get(Conversation, mine).volunteer_id == sam.id
    # Every look is recorded: the adult's two reads, Sam's claim and read; refusals record nothing.
    from textline.models import AuditEvent, User

    looks = db.session.execute(select(User.email, AuditEvent.action, AuditEvent.target_id).join(
        User, User.id == AuditEvent.actor_id).where(AuditEvent.action.in_(["conversation.view", "conversation.claim"]))
        .order_by(AuditEvent.id)).all()
    assert looks == [("sam@example.org", "conversation.claim", mine),
                     ("dana@example.org", "conversation.view", mine), ("dana@example.org", "conversation.view", other),
                     ("sam@example.org", "conversation.view", mine)]


def test_going_off_shift_stops_queue_updates(live_app, app_ctx):
    make_user(db.session, "sam@example.org", on_shift=True)
    sam = _console(live_app, "sam@example.org")
    try:
        sam.wait_for("hello")
        assert sam.call("shift", {"on": False})["me"]["on_shift"] is False
        first = _conversation(live_app)
        assert sam.call("shift", {"on": True})["queue"][0]["alias"].startswith("Texter ")
        _conversation(live_app, "+15550105555")
        sam.wait_for("queue_view", lambda q: len(q) == 2)
        # Off shift, nothing about the first one came: it arrived with the queue on coming on shift.
        about_first = [data for name, data in sam.seen if name in ("queue", "queue_delta", "queue_item") and first in (
            data.get("id"), data.get("gone"), data.get("put", {}).get("id"), *[r["id"] for r in data.get("rows", [])])]
        assert about_first == []
    finally:
        sam.close()
    assert queue.length() == 2
