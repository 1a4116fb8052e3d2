from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from textline.safety.hours import Schedule, ScheduleError, load_schedule

LA = ZoneInfo("America/Los_Angeles")
UTC = timezone.utc


def la(*args, fold=0):
    return datetime(*args, tzinfo=LA, fold=fold)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def schedule(weekly=None, **extra):
    data = {"timezone": "America/Los_Angeles",
            "weekly": weekly if weekly is not None else [{"days": "daily", "open": "18:00", "close": "22:00"}]}
    data.update(extra)
    return Schedule.from_dict(data)


@pytest.fixture(scope="module")
def evenings():
    return load_schedule()  # the bundled hours: every day 18:00-22:00 Pacific


@pytest.fixture(scope="module")
def late():
    return schedule([{"days": "daily", "open": "22:00", "close": "02:00"}])


# -- bundled schedule, basic boundaries -----------------------------------------------

@pytest.mark.parametrize("at, expected", [
    (la(2026, 6, 1, 17, 59, 59), False),
    (la(2026, 6, 1, 18, 0), True),
    (la(2026, 6, 1, 21, 59, 59), True),
    (la(2026, 6, 1, 22, 0), False),
    (la(2026, 6, 1, 3, 0), False),
    (utc(2026, 6, 2, 1, 30), True),   # 18:30 PDT on June 1, given in UTC
    (utc(2026, 6, 1, 18, 30), False),  # 11:30 PDT
])
def test_bundled_hours(evenings, at, expected):
    assert evenings.is_open(at) is expected


@pytest.mark.parametrize("method", ["is_open", "next_opening", "describe_next_opening"])
def test_naive_datetime_is_rejected(evenings, method):
    with pytest.raises(ValueError, match="timezone-aware"):
        getattr(evenings, method)(datetime(2026, 6, 1, 19, 0))


def test_next_opening_when_closed_and_when_open(evenings):
    nxt = evenings.next_opening(utc(2026, 6, 1, 18, 0))  # 11:00 PDT
    assert nxt == la(2026, 6, 1, 18, 0) and nxt.tzinfo.key == "America/Los_Angeles"
    assert evenings.next_opening(la(2026, 6, 1, 22, 0)) == la(2026, 6, 2, 18, 0)
    # While open, the next opening is the moment asked about.
    assert evenings.next_opening(la(2026, 6, 1, 19, 15)) == la(2026, 6, 1, 19, 15)


# -- DST (2026: clocks spring forward March 8, fall back November 1) -------------------

def test_next_opening_across_spring_forward(evenings):
    for at in (la(2026, 3, 7, 23, 0), la(2026, 3, 8, 1, 59), la(2026, 3, 8, 3, 0)):
        nxt = evenings.next_opening(at)
        assert nxt == utc(2026, 3, 9, 1, 0)  # 18:00 PDT, not 18:00 PST
        assert (nxt.hour, nxt.utcoffset()) == (18, timedelta(hours=-7))


def test_next_opening_across_fall_back(evenings):
    for at in (la(2026, 10, 31, 23, 0), la(2026, 11, 1, 1, 30), la(2026, 11, 1, 1, 30, fold=1)):
        nxt = evenings.next_opening(at)
        assert nxt == utc(2026, 11, 2, 2, 0)  # 18:00 PST
        assert (nxt.hour, nxt.utcoffset()) == (18, timedelta(hours=-8))
    assert evenings.is_open(utc(2026, 11, 2, 2, 30)) and not evenings.is_open(utc(2026, 11, 2, 1, 30))


def test_midnight_window_through_fall_back(late):
    # Oct 31 22:00 PDT (05:00 UTC) to Nov 1 02:00 PST (10:00 UTC): five real hours.
    assert not late.is_open(utc(2026, 11, 1, 4, 59))
    assert late.is_open(utc(2026, 11, 1, 5, 0))
    assert late.is_open(la(2026, 11, 1, 1, 30, fold=0))  # first 1:30 (PDT)
    assert late.is_open(la(2026, 11, 1, 1, 30, fold=1))  # second 1:30 (PST)
    assert late.is_open(utc(2026, 11, 1, 9, 59))
    assert not late.is_open(utc(2026, 11, 1, 10, 0))


def test_window_closing_inside_the_repeated_hour():
    # Closes at the *first* 01:30 on Nov 1 (PDT, 08:30 UTC). The second 01:15 (PST)
    # comes 45 real minutes later, so the line is closed although 01:15 < 01:30 on the clock.
    s = schedule([{"days": "daily", "open": "22:00", "close": "01:30"}])
    assert s.is_open(la(2026, 11, 1, 1, 15, fold=0))
    assert not s.is_open(la(2026, 11, 1, 1, 15, fold=1))
    assert not s.is_open(utc(2026, 11, 1, 9, 15))
    assert s.next_opening(la(2026, 11, 1, 1, 15, fold=1)) == la(2026, 11, 1, 22, 0)


def test_midnight_window_through_spring_forward(late):
    # Mar 7 22:00 PST to "02:00" Mar 8, which does not exist: it ends at 03:00 PDT (10:00 UTC).
    assert late.is_open(utc(2026, 3, 8, 9, 59))  # 01:59 PST
    assert not late.is_open(utc(2026, 3, 8, 10, 0))  # 03:00 PDT
    assert late.next_opening(utc(2026, 3, 8, 10, 0)) == la(2026, 3, 8, 22, 0)


def test_opening_inside_the_spring_forward_gap_moves_an_hour_later():
    s = schedule([{"days": ["sun"], "open": "02:30", "close": "05:00"}])
    nxt = s.next_opening(la(2026, 3, 8, 0, 0))
    assert nxt == utc(2026, 3, 8, 10, 30)
    assert (nxt.hour, nxt.minute, nxt.utcoffset()) == (3, 30, timedelta(hours=-7))
    assert not s.is_open(la(2026, 3, 8, 3, 15)) and s.is_open(la(2026, 3, 8, 3, 30))


# -- midnight-spanning windows ----------------------------------------------------------

@pytest.mark.parametrize("at, expected", [
    (la(2026, 6, 1, 21, 59), False),
    (la(2026, 6, 1, 22, 0), True),
    (la(2026, 6, 1, 23, 59), True),
    (la(2026, 6, 2, 0, 0), True),
    (la(2026, 6, 2, 1, 59), True),
    (la(2026, 6, 2, 2, 0), False),
])
def test_midnight_spanning_window(late, at, expected):
    assert late.is_open(at) is expected


def test_midnight_spanning_next_opening(late):
    assert late.next_opening(la(2026, 6, 2, 3, 0)) == la(2026, 6, 2, 22, 0)
    assert late.next_opening(la(2026, 6, 2, 1, 0)) == la(2026, 6, 2, 1, 0)


def test_window_closing_at_midnight():
    s = schedule([{"days": "daily", "open": "18:00", "close": "00:00"}])
    assert s.is_open(la(2026, 6, 1, 23, 59)) and not s.is_open(la(2026, 6, 2, 0, 0))


def test_sunday_night_window_runs_into_monday():
    s = schedule([{"days": ["Sunday"], "open": "22:00", "close": "02:00"}])
    assert s.is_open(la(2026, 6, 8, 1, 0))  # Monday 01:00, from Sunday's shift
    assert not s.is_open(la(2026, 6, 9, 1, 0))  # Tuesday 01:00


# -- closed dates and special openings ---------------------------------------------------

def test_closed_date(evenings):
    s = schedule(closed_dates=[{"date": "2026-12-25", "reason": "Christmas Day"}])
    assert not s.is_open(la(2026, 12, 25, 19, 0))
    assert s.next_opening(la(2026, 12, 25, 10, 0)) == la(2026, 12, 26, 18, 0)
    assert s.describe_next_opening(la(2026, 12, 25, 10, 0)) == "tomorrow at 6 PM Pacific"
    assert evenings.is_open(la(2026, 12, 25, 19, 0))  # the bundled hours have no closures


def test_closed_date_keeps_the_shift_that_started_the_evening_before():
    s = schedule([{"days": "daily", "open": "22:00", "close": "02:00"}], closed_dates=["2026-12-25"])
    assert s.is_open(la(2026, 12, 25, 1, 0))
    assert not s.is_open(la(2026, 12, 25, 23, 0))
    assert s.next_opening(la(2026, 12, 25, 3, 0)) == la(2026, 12, 26, 22, 0)


def test_several_closed_days_name_the_weekday():
    s = schedule(closed_dates=["2026-12-24", "2026-12-25", "2026-12-26"])
    at = la(2026, 12, 24, 10, 0)  # a Thursday
    assert s.next_opening(at) == la(2026, 12, 27, 18, 0)
    assert s.describe_next_opening(at) == "Sunday at 6 PM Pacific"


def test_long_closure_gives_a_date():
    closed = [(datetime(2026, 12, 20) + timedelta(days=i)).date() for i in range(15)]  # to Jan 3
    s = schedule(closed_dates=closed)
    assert s.describe_next_opening(la(2026, 12, 20, 10, 0)) == "Monday, January 4 at 6 PM Pacific"


def test_special_opening_replaces_weekly_hours_that_day():
    s = schedule(special_openings=[{"date": "2026-12-31", "open": "20:00", "close": "01:00"}])
    assert not s.is_open(la(2026, 12, 31, 18, 30))
    assert s.describe_next_opening(la(2026, 12, 31, 18, 30)) == "tonight at 8 PM Pacific"
    assert s.is_open(la(2027, 1, 1, 0, 30))
    assert s.is_open(la(2027, 1, 1, 18, 30))  # back to normal the next day


def test_special_opening_on_a_normally_closed_day():
    s = schedule([{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "18:00", "close": "22:00"}],
                 special_openings=[{"date": "2026-06-06", "open": "12:00", "close": "16:00"}])  # Saturday
    assert s.is_open(la(2026, 6, 6, 13, 0))
    assert not s.is_open(la(2026, 6, 13, 13, 0))  # the next Saturday is closed again


def test_only_past_special_openings_means_no_next_opening():
    s = schedule([], special_openings=[{"date": "2026-01-10", "open": "18:00", "close": "22:00"}])
    assert s.is_open(la(2026, 1, 10, 19, 0))
    assert s.next_opening(la(2026, 2, 1, 12, 0)) is None
    assert s.describe_next_opening(la(2026, 2, 1, 12, 0)) == "soon"


# -- describe_next_opening ----------------------------------------------------------------

@pytest.mark.parametrize("at, text", [
    (la(2026, 6, 1, 10, 0), "tonight at 6 PM Pacific"),
    (la(2026, 6, 1, 0, 30), "tonight at 6 PM Pacific"),
    (la(2026, 6, 1, 19, 0), "now"),
    (la(2026, 6, 1, 22, 0), "tomorrow at 6 PM Pacific"),
    (la(2026, 6, 1, 23, 59), "tomorrow at 6 PM Pacific"),
    (utc(2026, 6, 1, 6, 0), "tomorrow at 6 PM Pacific"),  # 23:00 PDT May 31
])
def test_describe_bundled(evenings, at, text):
    assert evenings.describe_next_opening(at) == text


def test_describe_weekday_and_clock_formats():
    s = schedule([
        {"days": ["mon"], "open": "18:30", "close": "22:00"},
        {"days": ["wed"], "open": "09:00", "close": "11:00"},
        {"days": ["thu"], "open": "12:00", "close": "13:00"},
        {"days": ["fri"], "open": "00:00", "close": "01:00"},
    ])
    assert s.describe_next_opening(la(2026, 6, 5, 12, 0)) == "Monday at 6:30 PM Pacific"  # from Friday
    assert s.describe_next_opening(la(2026, 6, 3, 7, 0)) == "today at 9 AM Pacific"  # Wednesday
    assert s.describe_next_opening(la(2026, 6, 3, 12, 0)) == "tomorrow at noon Pacific"
    assert s.describe_next_opening(la(2026, 6, 4, 20, 0)) == "tonight at midnight Pacific"  # Thu -> Fri 00:00
    assert s.describe_next_opening(la(2026, 6, 4, 13, 0)) == "tonight at midnight Pacific"


def test_describe_after_midnight_opening_said_in_the_evening():
    s = schedule([{"days": "daily", "open": "00:30", "close": "03:00"}])
    assert s.describe_next_opening(la(2026, 6, 1, 23, 0)) == "tonight at 12:30 AM Pacific"
    assert s.describe_next_opening(la(2026, 6, 1, 10, 0)) == "tomorrow at 12:30 AM Pacific"


def test_label_defaults_and_override():
    assert schedule().describe_next_opening(la(2026, 6, 1, 10, 0)).endswith(" Pacific")
    s = Schedule.from_dict({"timezone": "America/New_York", "label": "ET",
                            "weekly": [{"days": "daily", "open": "18:00", "close": "22:00"}]})
    assert s.describe_next_opening(la(2026, 6, 1, 10, 0)) == "tonight at 6 PM ET"  # 13:00 Eastern
    s = Schedule.from_dict({"timezone": "Europe/London",
                            "weekly": [{"days": "daily", "open": "18:00", "close": "22:00"}]})
    assert s.describe_next_opening(utc(2026, 1, 5, 10, 0)) == "tonight at 6 PM GMT"


# -- always open ------------------------------------------------------------------------

def test_always_open():
    s = Schedule.always_open()
    at = utc(2026, 3, 8, 10, 0)
    assert s.is_open(at)
    assert s.next_opening(at) == at and s.next_opening(at).tzinfo.key == "America/Los_Angeles"
    assert s.describe_next_opening(at) == "now"
    assert Schedule.from_dict({"timezone": "UTC", "always_open": True}).is_open(at)


# -- bad input ----------------------------------------------------------------------------

DAILY = [{"days": "daily", "open": "18:00", "close": "22:00"}]


@pytest.mark.parametrize("data, message", [
    ({"weekly": DAILY}, "needs a 'timezone'"),
    ({"timezone": "Pacific Time", "weekly": DAILY}, "unknown timezone 'Pacific Time'"),
    ({"timezone": "Mars/Olympus_Mons", "weekly": DAILY}, "unknown timezone"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": "25:00", "close": "02:00"}]}, "bad time '25:00'"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": "6pm", "close": "22:00"}]}, "bad time '6pm'"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": 1080, "close": "22:00"}]}, "quoted strings"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "close": "22:00"}]}, "open: bad time None"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": "18:00", "close": "18:00"}]}, "always_open"),
    ({"timezone": "UTC", "weekly": [{"days": ["funday"], "open": "18:00", "close": "22:00"}]}, "unknown day 'funday'"),
    ({"timezone": "UTC", "weekly": [{"days": [], "open": "18:00", "close": "22:00"}]}, "'days' must be"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": "18:00", "close": "22:00", "note": 1}]},
     r"unknown key\(s\) \['note'\]"),
    ({"timezone": "UTC", "weekly": DAILY + [{"days": ["tue"], "open": "21:00", "close": "23:00"}]},
     "overlapping hours: Tuesday 18:00-22:00 and Tuesday 21:00-23:00"),
    ({"timezone": "UTC", "weekly": [{"days": ["sun"], "open": "22:00", "close": "03:00"},
                                    {"days": ["mon"], "open": "02:00", "close": "04:00"}]},
     "overlapping hours: Sunday 22:00-03:00 and Monday 02:00-04:00"),
    ({"timezone": "UTC", "weekly": [{"days": "daily", "open": "22:00", "close": "02:00"}],
      "special_openings": [{"date": "2026-12-25", "open": "01:00", "close": "03:00"}]},
     "overlapping hours: 2026-12-24 22:00-02:00 and 2026-12-25 01:00-03:00"),
    ({"timezone": "UTC", "weekly": DAILY, "closed_dates": ["2026-12-25"],
      "special_openings": [{"date": "2026-12-25", "open": "12:00", "close": "14:00"}]},
     "both closed and a special opening"),
    ({"timezone": "UTC", "weekly": DAILY, "closed_dates": ["25/12/2026"]}, "bad date '25/12/2026'"),
    ({"timezone": "UTC", "weekly": DAILY, "holidays": []}, r"unknown schedule key\(s\) \['holidays'\]"),
    ({"timezone": "UTC", "weekly": []}, "no opening hours"),
    ({"timezone": "UTC", "weekly": {"days": "daily"}}, "'weekly' must be a list"),
    ({"timezone": "UTC", "always_open": True, "weekly": DAILY}, "cannot be combined"),
    ("every evening", "must be a mapping"),
])
def test_bad_schedules_give_clear_errors(data, message):
    with pytest.raises(ScheduleError, match=message):
        Schedule.from_dict(data)


def test_adjacent_windows_are_not_an_overlap():
    s = schedule([{"days": "daily", "open": "18:00", "close": "22:00"},
                  {"days": "daily", "open": "22:00", "close": "02:00"}])
    assert s.is_open(la(2026, 6, 1, 22, 0)) and s.is_open(la(2026, 6, 2, 1, 0))


def test_load_schedule_from_yaml_catches_unquoted_times(tmp_path):
    path = tmp_path / "hours.yaml"
    path.write_text("timezone: America/Los_Angeles\nweekly:\n  - days: daily\n    open: 18:00\n    close: 22:00\n")
    with pytest.raises(ScheduleError, match=r"hours\.yaml: .*quoted strings like \"18:00\""):
        load_schedule(path)


def test_load_schedule_yaml_dates_and_reasons(tmp_path):
    path = tmp_path / "hours.yaml"
    path.write_text(
        "timezone: America/Los_Angeles\n"
        "weekly:\n  - days: [sat, sun]\n    open: '10:00'\n    close: '14:00'\n"
        "closed_dates:\n  - date: 2026-06-06\n    reason: Training day\n"
    )
    s = load_schedule(path)
    assert s.closed == {datetime(2026, 6, 6).date(): "Training day"}
    assert s.next_opening(la(2026, 6, 6, 9, 0)) == la(2026, 6, 7, 10, 0)


def test_load_schedule_missing_file(tmp_path):
    with pytest.raises(ScheduleError, match="cannot read schedule file"):
        load_schedule(tmp_path / "absent.yaml")
