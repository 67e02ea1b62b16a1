"""Working days: the official calendar with its 调休 make-up days, local dates from the
configuration, and Monday to Friday for a year the State Council has not announced yet."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from credithub.config import ConfigError, load_settings
from credithub.workflows.workdays import Local, add_working_days, known_year

# The official 2026 schedule (the State Council's notice for 2026): Spring Festival holiday
# Sunday 15 February to Monday 23 February; Saturday 14 February and Saturday 28 February are
# make-up working days.
FRIDAY = date(2026, 2, 13)


def test_the_spring_festival_of_2026_counts_as_the_state_council_announced_it() -> None:
    assert add_working_days(FRIDAY, 1) == date(2026, 2, 14)  # the make-up Saturday
    assert add_working_days(FRIDAY, 2) == date(2026, 2, 24)  # the 9-day holiday skipped
    # 25, 26, 27, the make-up Saturday 28, then Monday 2 March.
    assert add_working_days(date(2026, 2, 24), 5) == date(2026, 3, 2)
    assert add_working_days(FRIDAY, 0) == FRIDAY


def test_local_holidays_and_make_up_days_from_the_configuration_count_too() -> None:
    local = Local.of(holidays=["2026-02-24"], workdays=["2026-02-15"])
    assert add_working_days(FRIDAY, 1, local) == date(2026, 2, 14)
    assert add_working_days(FRIDAY, 2, local) == date(2026, 2, 15)
    assert add_working_days(FRIDAY, 3, local) == date(2026, 2, 25)


def test_a_year_the_official_calendar_does_not_know_counts_monday_to_friday_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert known_year(2026)
    assert not known_year(2099)
    with caplog.at_level(logging.WARNING, logger="credithub.workflows.workdays"):
        assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Friday -> Monday
    assert "does not know 2099" in caplog.text
    local = Local.of(holidays=["2099-01-05"], workdays=["2099-01-03"])
    assert add_working_days(date(2099, 1, 2), 2, local) == date(2099, 1, 6)


def test_calendar_settings_take_iso_dates_and_name_a_bad_one(tmp_path: Path) -> None:
    config = tmp_path / "credithub.toml"
    config.write_text('[calendar]\nholidays = [2026-05-06]\nworkdays = ["2026-10-10"]\n')
    s = load_settings(environ={"CREDITHUB_CONFIG": str(config)})
    assert (s.calendar.holidays, s.calendar.workdays) == (["2026-05-06"], ["2026-10-10"])
    s = load_settings(environ={"CREDITHUB_CALENDAR_HOLIDAYS": "2026-05-06, 2026-05-07"})
    assert s.calendar.holidays == ["2026-05-06", "2026-05-07"]
    with pytest.raises(ConfigError, match=r"calendar\.workdays"):
        load_settings(environ={"CREDITHUB_CALENDAR_WORKDAYS": "10 October"})
