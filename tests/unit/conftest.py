"""Fixtures several unit-test modules share (the project-wide ones are in tests/conftest.py)."""
from __future__ import annotations

import pytest

from textline.safety.risk import RiskScorer, load_lexicon


@pytest.fixture(scope="module")
def scorer():
    """The packaged lexicon and model, loaded once per module."""
    return RiskScorer(load_lexicon())


@pytest.fixture(scope="module")
def lexicon_only():
    return RiskScorer(load_lexicon(), model=None)
