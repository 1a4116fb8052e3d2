"""/metrics: who may read it, and that what it says follows what happened (Redis + SQL, no mocks)."""
from __future__ import annotations

import ipaddress

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import wait_until
from tests.support.texting import (
    ConsoleClient, inbound_params, inject_faults, login, new_sid, post_signed, twilio_signature,
)
from textline.extensions import db
from textline.models import Conversation, User
from textline.ops.cli import create_user
from textline.texting import conversations

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def protected(live_app):
    cfg = live_app.app.config
    saved = cfg["METRICS_TOKEN"], cfg["METRICS_ALLOW_FROM"]
    cfg["METRICS_TOKEN"], cfg["METRICS_ALLOW_FROM"] = TOKEN, []
    yield live_app
    cfg["METRICS_TOKEN"], cfg["METRICS_ALLOW_FROM"] = saved


def scrape(live_app) -> dict:
    r = requests.get(live_app.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 200, r.text
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def _user(app, email, role):
    with app.app_context():
        create_user(email, email.split("@")[0], role, "a-long-password")


@pytest.mark.parametrize("who, status", [
    ("nobody", 401), ("wrong-token", 403), ("token", 200), ("volunteer", 403), ("supervisor", 403),
    ("admin", 200),
])
def test_metrics_are_for_the_scraper_and_admins_only(protected, who, status):
    url = protected.base_url + "/metrics"
    if who in ("volunteer", "supervisor", "admin"):
        _user(protected.app, f"{who}@example.org", who)
        session = login(protected.base_url, f"{who}@example.org", "a-long-password")
        r = session.get(url, timeout=10)
    else:
        headers = {"wrong-token": {"Authorization": "Bearer not-the-token"},
                   "token": {"Authorization": f"Bearer {TOKEN}"}}.get(who, {})
        r = requests.get(url, headers=headers, timeout=10)
    assert r.status_code == status
    if status == 200:
        assert "textline_queue_length" in r.text
    else:
        assert "textline_" not in r.text


def test_allow_list_admits_a_scraper_by_address_and_refuses_others(protected):
    cfg = protected.app.config
    cfg["METRICS_ALLOW_FROM"] = [ipaddress.ip_network("10.0.0.0/8")]
    assert requests.get(protected.base_url + "/metrics", timeout=10).status_code == 401  # 127.0.0.1 is not in it
    cfg["METRICS_ALLOW_FROM"] = [ipaddress.ip_network("127.0.0.1/32")]
    assert requests.get(protected.base_url + "/metrics", timeout=10).status_code == 200


def test_no_token_configured_means_no_token_is_accepted(protected):
    protected.app.config["METRICS_TOKEN"] = ""
    r = requests.get(protected.base_url + "/metrics", headers={"Authorization": "Bearer "}, timeout=10)
    assert r.status_code == 403


def test_counters_follow_webhooks_messages_claims_and_alerts(protected, app_ctx):
    live = protected
    sid = new_sid()
    for number, body, message_sid in (("+15550100001", "hi", sid), ("+15550100002", "hello?", None),
                                      ("+15550100001", "hi", sid)):  # the last is Twilio retrying
        params = inbound_params(live.account_sid, number, body, message_sid)
        assert post_signed(live.base_url, "/sms/inbound", params, live.auth_token).status_code == 200
    forged = inbound_params(live.account_sid, "+15550100003", "x")
    requests.post(live.base_url + "/sms/inbound", data=forged, timeout=10,
                  headers={"X-Twilio-Signature": twilio_signature("wrong", live.base_url + "/sms/inbound", forged)})
    before = scrape(live)
    assert value(before, "textline_webhooks_total", endpoint="inbound", outcome="stored") == 2
    assert value(before, "textline_webhooks_total", endpoint="inbound", outcome="duplicate") == 1
    assert value(before, "textline_webhooks_total", endpoint="inbound", outcome="forged") == 1
    assert value(before, "textline_messages_total", direction="in") == 2
    assert value(before, "textline_queue_length") == 2
    assert value(before, "textline_oldest_wait_seconds") >= 0
    # The two welcomes went to (fake) Twilio: counted out, and their delivery callbacks counted in.
    after = wait_until(lambda: (s := scrape(live)) and value(
        s, "textline_webhooks_total", endpoint="status", outcome="recorded") >= 4 and s, what="status callbacks")
    assert value(after, "textline_messages_total", direction="out") == 2

    sam = create_user("sam@example.org", "Sam", "volunteer", "a-long-password")
    first = db.session.query(Conversation).order_by(Conversation.id).first()
    conversations.claim(first.id, sam)
    claimed = scrape(live)
    assert value(claimed, "textline_queue_wait_seconds_count") == 1
    assert value(claimed, "textline_queue_wait_seconds_bucket", le="+Inf") == 1
    assert value(claimed, "textline_queue_wait_seconds_bucket", le="15.0") == 1  # claimed at once
    assert value(claimed, "textline_queue_length") == 1


def test_a_text_that_cannot_be_delivered_raises_a_notice_and_counts_a_failure(protected, app_ctx):
    live = protected
    live.app.config["OUTBOUND_MAX_RETRIES"] = 0
    try:
        inject_faults(live.base_url, live.account_sid, live.auth_token, {"status": 503})
        params = inbound_params(live.account_sid, "+15550100009", "anyone there")
        assert post_signed(live.base_url, "/sms/inbound", params, live.auth_token).status_code == 200
    finally:
        live.app.config["OUTBOUND_MAX_RETRIES"] = 6
    samples = scrape(live)
    assert value(samples, "textline_notices_total", kind="delivery_failed") == 1
    assert value(samples, "textline_task_failures_total", task="workers.outbound.send_message") == 1
    assert value(samples, "textline_messages_total", direction="out") == 0


def test_socket_clients_are_counted_while_connected(protected):
    live = protected
    _user(live.app, "sam@example.org", "volunteer")
    console = ConsoleClient(live.base_url, login(live.base_url, "sam@example.org", "a-long-password"))
    try:
        console.wait_for("hello")
        assert value(scrape(live), "textline_socket_clients") == 1
        assert value(scrape(live), "textline_web_processes") >= 1  # integration stacks may share this Redis
    finally:
        console.close()
    wait_until(lambda: value(scrape(live), "textline_socket_clients") == 0, what="disconnect counted")


def test_metrics_carry_no_texter_data(protected, app_ctx):
    number, body = "+15550100042", "something private about my family"
    params = inbound_params(protected.account_sid, number, body)
    post_signed(protected.base_url, "/sms/inbound", params, protected.auth_token)
    text = requests.get(protected.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10).text
    alias = db.session.query(Conversation).one().texter.alias
    for secret in (number, number[1:], number[2:], body, alias):
        assert secret not in text
    assert db.session.query(User).count() == 0


def test_a_task_that_raises_is_counted_as_a_failure(protected):
    from workers.outbound import send_message

    result = send_message.apply(args=[[1, 2]])  # a malformed task message: no such message id shape
    assert result.failed()
    assert value(scrape(protected), "textline_task_failures_total", task="workers.outbound.send_message") == 1
