"""Browser tests: Playwright drives a real headless Chromium against the production-shape stack
(gunicorn + gevent web, real Celery worker, Redis, SQL; tests/support/stack.py).

Chromium: $TEXTLINE_CHROMIUM, else Debian's /usr/bin/chromium (scripts/test.sh installs it with
apt-get when it can), else a browser Playwright downloaded itself (`python -m playwright install
chromium`). With none of them, every test here is skipped with one reason saying so.

Each run leaves screenshots (1280x720 and a tablet's 820x1180) and axe-core reports under
test-artifacts/browser/ (ignored by git).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.servers import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 720}
TABLET = {"width": 820, "height": 1180}
VIEWPORTS = (DESKTOP, TABLET)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# WCAG impacts that fail a test; "moderate" and "minor" findings are written to the report only.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def chromium_candidates() -> list[str]:
    found = [os.environ.get("TEXTLINE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
             shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")]
    out = []
    for path in found:
        if path and os.path.exists(path) and path not in out:
            out.append(path)
    return out


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package: pip install -e '.[test]' (scripts/test.sh does)")
    pw = sync_playwright().start()
    tried = []
    browser = None
    for executable in [*chromium_candidates(), None]:  # None: Playwright's own download, if any
        try:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            break
        except Exception as exc:
            tried.append(f"{executable or 'playwright-managed chromium'}: {str(exc).splitlines()[0]}")
    if browser is None:
        pw.stop()
        pytest.skip("no usable Chromium for the browser tests (apt-get install chromium, or "
                    "python -m playwright install chromium). Tried: " + " | ".join(tried))
    from playwright.sync_api import expect

    # Generous waits: the machine may be busy with other test runs. Waiting is on conditions, so a
    # passing test does not take longer for it.
    expect.set_options(timeout=20_000)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # this run's screenshots and reports only
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield browser
    browser.close()
    pw.stop()


class Pages:
    """Opens pages in separate browser contexts (separate cookies: a volunteer and a texter's phone)
    and fails the test on any JavaScript error or Content-Security-Policy violation they report."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.contexts, self.problems = [], []

    def new(self, path: str = "", viewport: dict = DESKTOP):
        context = self.browser.new_context(viewport=viewport, base_url=self.base_url)
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: JavaScript error: {exc}"))
        page.on("console", lambda msg: self._console(page, msg))
        if path:
            page.goto(path)
        return page

    def _console(self, page, msg) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.problems.append(f"{page.url}: {msg.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(chromium, live, request):
    opened = Pages(chromium, live.base_url)
    yield opened
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:  # what each page showed when the test failed
        for i, context in enumerate(opened.contexts):
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / "failures" / f"{request.node.name}-{i}-{j}.png"))
    problems = list(opened.problems)
    opened.close()
    assert not problems, "\n".join(problems)


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)  # each role's own page: /console or /supervise


def screenshot(page, name: str) -> list[Path]:
    """The page as it is now, at desktop and tablet size (full page), under test-artifacts/."""
    original = page.viewport_size
    paths = []
    for vp in VIEWPORTS:
        page.set_viewport_size(vp)
        path = ARTIFACTS / "screens" / f"{name}-{vp['width']}x{vp['height']}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(original)
    return paths


def axe_violations(page, name: str) -> list[dict]:
    """Run axe-core in the page (injected from the test's vendored copy: never served to users) and
    return its serious and critical violations; the full report goes to test-artifacts/."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    report = ARTIFACTS / "axe" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result["violations"], indent=2))
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def fill_wrap_up(page, outcome: str = "supported", topics=("School",), risk: str = "Low",
                 follow_up: str = "None needed", resources=()) -> None:
    """Fill the console's wrap-up dialog (textline/console/wrap_up.py lists what it offers)."""
    page.get_by_label("How did it end?").select_option(outcome)
    page.get_by_label("Risk you assessed").select_option(label=risk)
    page.get_by_label("Follow-up", exact=True).select_option(label=follow_up)
    dialog = page.get_by_role("dialog")
    for topic in topics:
        dialog.get_by_role("group", name="Topics").get_by_role("checkbox", name=topic, exact=True).check()
    for resource in resources:
        dialog.get_by_role("group", name="Resources given").get_by_role("checkbox", name=resource).check()
