"""tests/support/texting.py's ConsoleClient, the volunteer's console the other tests drive: its queue
resync (asked in a background thread when a numbered change is missing) against the in-process app."""
from __future__ import annotations

import pytest

from tests.support.team import on_shift
from tests.support.texting import console_opener

PASSWORD = "a-long-password"


@pytest.fixture
def consoles(live_app, app_ctx):
    on_shift(PASSWORD, sam="volunteer")
    yield from console_opener(live_app.base_url, PASSWORD)


def test_a_resync_gets_the_whole_queue_while_connected(consoles):
    sam = consoles("sam")
    sam._resync()
    assert sam.wait_for("queue_sync", timeout=5)["ok"]


def test_a_resync_after_the_console_closed_ends_quietly(consoles):
    """Its thread used to raise after the test's client disconnected (pytest's unhandled thread exception
    warning, in whichever test ran then)."""
    sam = consoles("sam")
    sam.close()
    sam._resync()  # raised BadNamespaceError ("/ is not a connected namespace")
    assert not sam.sio.connected
