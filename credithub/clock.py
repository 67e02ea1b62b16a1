"""The hub's clock: every instant and every China date the hub uses comes from here.

Time drives the hub's rules (publication windows, terms, the 5-year limit, working-day
deadlines), so tests and drills need to move it. The clock is the real time shifted by an
offset: zero in production; `[clock] start` (an ISO instant) makes a process start its clock
at that instant and let it run on from there, and tests move it with `travel`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))  # China keeps no daylight saving time

_offset = timedelta(0)


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """The current date in China (terms, windows and deadlines end on China dates)."""
    return now().astimezone(CHINA).date()


def china_day(instant: datetime) -> date:
    """The China date of an aware instant."""
    return instant.astimezone(CHINA).date()


def start_at(instant: datetime | None) -> None:
    """Let the clock read `instant` now and run on from it; None: the real time."""
    global _offset
    _offset = timedelta(0) if instant is None else instant - datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO instant or date (a date: its midnight in China), as an aware instant."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=CHINA)


@contextmanager
def travel(to: datetime | str) -> Iterator[None]:
    """Run a block with the clock at `to` (then running on); the clock is restored after."""
    global _offset
    saved = _offset
    start_at(parse_instant(to) if isinstance(to, str) else to)
    try:
        yield
    finally:
        _offset = saved
