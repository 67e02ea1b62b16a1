"""Working days: China's official calendar with its 调休 make-up days, plus local dates.

Objection and repair deadlines count working days (Shanghai 社会信用条例 arts. 36–38). The
`chinese-calendar` package carries the State Council's holiday notices, one year at a time; the
`[calendar]` settings add the province's own holidays and make-up working days. A year the
package does not know yet (the notice comes out in the autumn before) counts Monday to Friday
plus the configured dates, and says so in the log once per year: a deadline is never refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from flask import current_app, has_app_context

log = logging.getLogger(__name__)
_warned: set[int] = set()


@dataclass(frozen=True)
class Local:
    """The configured local dates: extra holidays and extra make-up working days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, holidays: Iterable[str], workdays: Iterable[str]) -> Local:
        return cls(
            frozenset(map(date.fromisoformat, holidays)),
            frozenset(map(date.fromisoformat, workdays)),
        )


def configured() -> Local:
    """The `[calendar]` settings of the running app (none outside an app)."""
    if not has_app_context():
        return Local()
    settings = current_app.extensions["credithub.settings"].calendar
    return Local.of(settings.holidays, settings.workdays)


def official(day: date) -> bool | None:
    """Whether the official calendar has `day` as a working day; None: a year it does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def is_working_day(day: date, local: Local | None = None) -> bool:
    local = configured() if local is None else local
    if day in local.workdays:
        return True
    if day in local.holidays:
        return False
    found = official(day)
    if found is None:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning(
                "the official calendar does not know %s yet: working days of that year are "
                "Monday to Friday plus the configured [calendar] dates",
                day.year,
            )
        return day.weekday() < 5
    return found


def known_year(year: int) -> bool:
    """Whether the official calendar knows `year` (else weekdays stand in for it)."""
    return official(date(year, 6, 1)) is not None


def add_working_days(start: date, n: int, local: Local | None = None) -> date:
    """The `n`th working day after `start` (the day of the step itself does not count): a step
    taken on `start` with a limit of `n` working days is due by the end of that day."""
    local = configured() if local is None else local
    day = start
    left = n
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, local):
            left -= 1
    return day
