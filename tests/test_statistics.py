"""PostgreSQL's planner statistics are refreshed by the writers that grow a table (unless
switched off), and two writers doing so at once never deadlock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from credithub.db import db, keep_statistics_fresh, statistics
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="statistics are refreshed on PostgreSQL only")


def analysed(session: Session, table: str) -> bool:
    return bool(
        session.scalar(text("SELECT reltuples >= 0 FROM pg_class WHERE relname = :t"), {"t": table})
    )


def test_two_writers_analysing_at_once_do_not_deadlock(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANALYZE in a transaction holds its table's lock until the commit: if one writer analysed
    records and then subjects while the other analysed subjects, the first would wait for the
    second for ever (a deadlock once the second waits too). Only one analyses at a time."""
    monkeypatch.setattr(statistics, "_grown_since_analyze", {})
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            first.execute(text("SET lock_timeout = '3s'"))
            keep_statistics_fresh(first, {"records": 5000})
            keep_statistics_fresh(second, {"subjects": 5000})  # the first holds the analysis
            keep_statistics_fresh(first, {"subjects": 5000})  # not kept waiting by the second
            assert analysed(first, "records")
            assert analysed(first, "subjects")
            first.commit()
            second.commit()
        finally:
            first.close()
            second.close()


@pytest.mark.parametrize("analyze_after_growth", [True, False])
def test_the_switch_leaves_statistics_to_autovacuum(
    app_factory: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    analyze_after_growth: bool,
) -> None:
    """`database.analyze_after_growth` off: a write that doubles a table analyses nothing (the
    plain path: PostgreSQL's autovacuum refreshes the statistics in its own time)."""
    monkeypatch.setattr(statistics, "_grown_since_analyze", {})
    app = app_factory(database={"analyze_after_growth": analyze_after_growth})
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with db.transaction() as session:
            keep_statistics_fresh(session, {"records": 5000})
    analysed_now = [s for s in statements if s.startswith("ANALYZE")]
    assert analysed_now == (["ANALYZE records"] if analyze_after_growth else [])
