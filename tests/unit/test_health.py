"""/healthz and /readyz on the in-process app (the down cases run real processes: tests/integration)."""
from __future__ import annotations

import requests


def test_healthz_says_the_process_is_alive(live_app):
    r = requests.get(live_app.base_url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_checks_redis_the_database_and_celery(live_app):
    r = requests.get(live_app.base_url + "/readyz", timeout=10)
    assert r.status_code == 200
    # Unit tests run Celery eagerly (no worker to ping); the integration tests ping real workers.
    assert r.json() == {"status": "ready", "checks": {"redis": "ok", "database": "ok", "celery": "eager"},
                        "spool": {"depth": 0, "oldest_seconds": 0}}


def test_health_endpoints_need_no_sign_in_and_reveal_nothing_else(live_app):
    for path in ("/healthz", "/readyz"):
        r = requests.get(live_app.base_url + path, timeout=10, allow_redirects=False)
        assert r.status_code == 200
        assert set(r.json()) <= {"status", "checks", "spool"}
        assert "redis://" not in r.text and "sqlite" not in r.text
