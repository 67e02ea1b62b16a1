"""The hub's clock: real time by default; `[clock] start` and `travel` move it for tests and
drills, and every rule that reads the date follows it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from credithub.config import ConfigError, load_settings
from tests.records.samples import ZHUJIAN, penalty


def test_real_time_by_default() -> None:
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_travel_moves_the_clock_and_restores_it() -> None:
    with clock.travel("2027-02-05T10:00:00+08:00"):
        assert clock.today() == date(2027, 2, 5)
        assert clock.now() - datetime(2027, 2, 5, 2, tzinfo=UTC) < timedelta(seconds=1)
    with clock.travel("2027-02-05"):  # a date: its midnight in China
        assert clock.now().astimezone(clock.CHINA).hour == 0
        assert clock.today() == date(2027, 2, 5)
    assert clock.today() != date(2027, 2, 5)


def test_china_date_changes_at_midnight_in_china() -> None:
    with clock.travel("2027-02-04T16:30:00+00:00"):  # 00:30 on the 5th in China
        assert clock.today() == date(2027, 2, 5)


def test_start_from_configuration(app_factory: Callable[..., Flask]) -> None:
    try:
        app_factory(clock={"start": "2030-06-01T09:00:00+08:00"})
        assert clock.today() == date(2030, 6, 1)
    finally:
        clock.start_at(None)


def test_bad_start_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"clock\.start"):
        load_settings({"clock": {"start": "next tuesday"}}, environ={})


def test_decision_dates_are_judged_by_the_clock(
    client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    """ "Not in the future" is the clock's future: a record dated tomorrow becomes valid."""
    dept = make_token("department", uscc=ZHUJIAN)
    record: dict[str, Any] = penalty(decided_on="2030-06-02")
    answer = client.post("/api/v1/records", json={"records": [record]}, headers=dept).get_json()
    assert answer["results"][0]["status"] == "rejected"
    with clock.travel("2030-06-02T09:00:00+08:00"):
        answer = client.post("/api/v1/records", json={"records": [record]}, headers=dept)
        assert answer.get_json()["results"][0]["status"] == "created"
