"""Fixtures several unit-test modules share (the project-wide ones are in tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.support.pg_app import configured_postgres_app
from textline.safety.risk import RiskScorer, load_lexicon


@pytest.fixture(scope="module")
def scorer():
    """The packaged lexicon and model, loaded once per module."""
    return RiskScorer(load_lexicon())


@pytest.fixture(scope="module")
def lexicon_only():
    return RiskScorer(load_lexicon(), model=None)


@pytest.fixture
def pg_app(redis_server, tmp_path):
    """A bare app on a migrated PostgreSQL with Textline's settings (create_app would rebind the live
    app's Socket.IO)."""
    with configured_postgres_app(tmp_path, redis_server.url) as app:
        yield app
