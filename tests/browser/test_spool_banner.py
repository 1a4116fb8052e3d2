"""Issue 20: while texts wait in the spool for the database, the adults' dashboard says how many."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Pages, axe_violations, screenshot, sign_in
from tests.support.pg_outage import outage_stack, pg_bin
from tests.support.state import PASSWORD


@pytest.fixture(scope="module")
def outage(tmp_path_factory):
    if pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    with outage_stack(tmp_path_factory.mktemp("spool-banner")) as stack:
        yield stack


def test_the_dashboard_shows_texts_waiting_for_the_database(chromium, outage):
    outage.reset()
    outage.user("ada@example.org", role="supervisor")
    pages = Pages(chromium, outage.base_url)
    try:
        page = pages.new()
        sign_in(page, "ada@example.org", PASSWORD)
        page.goto("/supervise")
        banner = page.get_by_test_id("spool-banner")
        expect(page.locator("#connection")).to_have_text("Live")  # connected before the database goes
        expect(banner).to_be_hidden()
        outage.pg.stop()
        try:
            for i in range(2):
                assert outage.text_in(f"+1555013000{i}", f"hello {i}").status_code == 200
            expect(banner).to_contain_text("2 texts waiting for the database")
            expect(banner).to_have_attribute("role", "status")
            screenshot(page, "supervise-spool-banner")
            assert axe_violations(page, "supervise-spool-banner") == []
        finally:
            outage.pg.start()
        outage.engine.dispose()
        expect(banner).to_be_hidden(timeout=60_000)
        assert not pages.problems, pages.problems
    finally:
        pages.close()
