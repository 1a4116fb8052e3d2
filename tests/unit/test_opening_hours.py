"""The HOURS setting (textline/safety/opening_hours.py): demo default 24/7, production the evening schedule."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.safety import ALWAYS_OPEN, CLOSED_SCHEDULE, write_hours
from textline.config import load_config
from textline.safety.hours import ScheduleError
from textline.safety.opening_hours import check, schedule_for

LA = ZoneInfo("America/Los_Angeles")
EVENING, NOON = datetime(2026, 6, 1, 19, 0, tzinfo=LA), datetime(2026, 6, 1, 12, 0, tzinfo=LA)


def test_demo_and_dev_default_is_open_at_any_hour_production_uses_the_evening_schedule():
    assert load_config({})["HOURS"] == "always"
    assert load_config({"TEXTLINE_ENV": "production"})["HOURS"] == "default"
    assert load_config({"TEXTLINE_ENV": "production", "HOURS": "/etc/textline/hours.yaml"})["HOURS"] == \
        "/etc/textline/hours.yaml"


def test_always_is_open_at_noon_and_default_is_the_bundled_evenings():
    assert schedule_for("always").is_open(NOON)
    evenings = schedule_for("default")
    assert evenings.is_open(EVENING) and not evenings.is_open(NOON)
    assert evenings.describe_next_opening(NOON) == "tonight at 6 PM Pacific"


def test_a_schedule_file_is_read_and_re_read_when_it_changes(tmp_path):
    path = write_hours(tmp_path / "hours.yaml", CLOSED_SCHEDULE)
    assert not schedule_for(str(path)).is_open(EVENING)
    write_hours(path, ALWAYS_OPEN)
    assert schedule_for(str(path)).is_open(NOON)


@pytest.mark.parametrize("setting, words", [
    ("/no/such/hours.yaml", ["always", "default", "/no/such/hours.yaml"]),
    ("evenings", ["always", "default"]),
])
def test_a_bad_setting_says_what_to_use(setting, words):
    with pytest.raises(ScheduleError) as err:
        schedule_for(setting)
    assert all(w in str(err.value) for w in words)


def test_a_bad_schedule_stops_the_app_at_start_up(tmp_path):
    # safety.init_app runs this check in create_app (a second app here would re-bind the shared Socket.IO).
    bad = write_hours(tmp_path / "hours.yaml", "timezone: Mars/Olympus\nweekly: []\n")
    with pytest.raises(RuntimeError, match="HOURS setting.*Mars/Olympus"):
        check(str(bad))
    check("always")
