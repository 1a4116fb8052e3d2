"""Issue 12, item 6: an admin puts a retrained risk model in shadow and makes it live from the browser; the
worker process scores new texts with the model in shadow and the web process with the live one, each
following the decision without a restart (real gunicorn web, real Celery worker, shared SQLite, Redis)."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import axe_violations, screenshot, sign_in
from tests.support.servers import wait_until
from tests.support.state import PASSWORD
from tests.support.texting import new_sid
from textline.models import INBOUND, Message, RiskModelVersion, ShadowScore
from textline.safety.risk.training import DATA, DEFAULT_VARIANT, build_from_rows, load_rows

ORDINARY = "i got a b on my chemistry test today"
PHONE = {"width": 390, "height": 844}


def eager_model() -> dict:
    """Raises nearly every text for review (threshold 0.01), unlike the packaged model."""
    return build_from_rows({"dev": load_rows(DATA / "risk_dev.jsonl")}, DEFAULT_VARIANT, [], threshold=0.01,
                           min_tokens=1, quiet=True, validate=False)


def level_of(live, sid: str) -> str | None:
    with live.db() as s:
        risk = s.scalar(select(Message.risk).where(Message.twilio_sid == sid))
    return risk and risk["level"]


def test_an_admin_shadows_then_promotes_a_model_and_every_process_follows(pages, live):
    live.user("root@example.org", role="admin")
    with live.db() as s:
        model = RiskModelVersion(status="candidate", document=eager_model(),
                                 trained_on={"sources": [{"source": "risk_dev.jsonl", "rows": 514}],
                                             "live_was": "packaged"},
                                 evaluation={"frozen test split": {
                                     "live": {"alert_recall": 0.869, "flag_recall": 1.0, "ordinary_alerted": 0.008,
                                              "ordinary_flagged": 0.041},
                                     "candidate": {"alert_recall": 0.869, "flag_recall": 1.0,
                                                   "ordinary_alerted": 0.008, "ordinary_flagged": 0.9}}})
        s.add(model)
        s.commit()
        model_id = model.id
    page = pages.new()
    try:
        sign_in(page, "root@example.org", PASSWORD)
        page.goto("/admin/risk-models")
        expect(page.get_by_test_id("live-model")).to_contain_text("the packaged model")
        page.get_by_role("button", name=f"Put in shadow model {model_id}").click()
        expect(page.get_by_test_id("shadow-model")).to_contain_text(f"model {model_id}")

        # The worker scores in shadow; the web process's live decision stands.
        sid = new_sid()
        assert live.text_in("+15550104001", ORDINARY, sid=sid).status_code == 200

        def shadow_level():
            with live.db() as s:
                return s.scalar(select(ShadowScore.level).join(Message, Message.id == ShadowScore.message_id)
                                .where(Message.twilio_sid == sid))
        wait_until(lambda: shadow_level() == "medium", timeout=30, what="the worker scored the text in shadow")
        assert level_of(live, sid) == "none"
        page.reload()
        expect(page.get_by_test_id("shadow-comparison")).to_contain_text("1 text scored by both")
        screenshot(page, "admin-risk-models")
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(screenshot(page, "admin-risk-models")[0].parent / "admin-risk-models-390x844.png"))
        assert axe_violations(page, "admin-risk-models") == []

        page.get_by_role("button", name=f"Make live model {model_id}").click()
        expect(page.get_by_test_id("live-model")).to_contain_text(f"model {model_id}")

        def next_text_level():
            sid = new_sid()
            assert live.text_in("+15550104002", ORDINARY, sid=sid).status_code == 200
            return level_of(live, sid)
        wait_until(lambda: next_text_level() == "medium", timeout=30, interval=1,
                   what="the web process scores with the promoted model, without a restart")
    finally:
        # Leave the line on the packaged model for the tests after this one (the web process follows).
        page.goto("/admin/risk-models")
        if page.get_by_role("button", name="Go back to the packaged model").count():
            page.get_by_role("button", name="Go back to the packaged model").click()
            expect(page.get_by_test_id("live-model")).to_contain_text("the packaged model")
        wait_until(lambda: next_text_level() == "none", timeout=30, interval=1,
                   what="the web process back on the packaged model")
    with live.db() as s:
        assert s.scalar(select(Message.id).where(Message.direction == INBOUND)) is not None
