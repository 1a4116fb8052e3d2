"""The adults' dashboard: the red "Timers are not running" banner follows /healthz/timers, and open
alerts stay in order of danger as live ones arrive (static/js/supervise.js, textline/safety/danger.py).

The shared browser stack runs no beat, so its timers are honestly "not running" until this test
writes the heartbeats beat, a sweep and a worker would write."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.support.state import PASSWORD

HIGH = "i have the pills in my hand and i want to kill myself tonight"


def timers_running(live) -> None:
    r, now = live.redis(), time.time()
    r.set("tl:timers:beat", now)
    r.set("tl:timers:swept", now)
    r.zadd("tl:timers:workers", {"worker0@browser-test": now})


def test_timers_banner_and_live_alerts_in_order_of_danger(live, pages):
    live.user("dana@example.org", "supervisor", display_name="Dana")
    live.user("sam@example.org", display_name="Sam")
    page = pages.new()
    sign_in(page, "dana@example.org", PASSWORD)
    page.goto("/supervise")
    banner = page.get_by_test_id("timers-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Timers are not running — escalations may be late")
    expect(page.locator("#connection")).to_have_text("Live")
    # A volunteer asks for an adult; then a new high-risk text comes in: its alert goes on top.
    sam = live.console("sam@example.org")
    live.track(sam)
    live.text_in("+15550109001", "things at home are bad")
    conv = sam.wait_for("queue_view", lambda q: len(q) == 1)[0]
    assert sam.call("claim", {"conversation_id": conv["id"]})["ok"]
    assert sam.call("ask_adult", {"conversation_id": conv["id"]})["ok"]
    alerts = page.get_by_test_id("alert")
    expect(alerts).to_have_count(1)
    live.text_in("+15550109002", HIGH)
    expect(alerts).to_have_count(2)
    expect(alerts.nth(0)).to_contain_text("High risk")
    expect(alerts.nth(1)).to_contain_text("Volunteer asked for an adult")
    expect(page.locator("#alert-banner-text")).to_contain_text("High risk")  # names the most dangerous
    assert axe_violations(page, "supervise-timers-down") == []
    screenshot(page, "supervise-timers-down")
    timers_running(live)
    expect(banner).to_be_hidden(timeout=12_000)  # the page asks /healthz/timers every 5 s
