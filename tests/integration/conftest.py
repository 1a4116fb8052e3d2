"""Integration tests run on the production shape: see tests/support/stack.py (the `stack` and `live`
fixtures come from tests/conftest.py)."""
