"""`db.Read` answers what SQLAlchemy's own execution of its statement answers, values bound and
columns read alike (instants, JSON); switched off, it is that execution on a pooled
connection."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import bindparam, event, select

from credithub.db import Read, UtcDateTime, bulk_insert, db, table_of
from credithub.entities.models import Subject
from credithub.standing.models import StandingRow

CHINA = timezone(timedelta(hours=8))
SUBJECTS, STANDINGS = table_of(Subject), table_of(StandingRow)
STMT = (
    select(SUBJECTS.c.id, SUBJECTS.c.name, STANDINGS.c.computed_at, STANDINGS.c.data)
    .select_from(SUBJECTS.outerjoin(STANDINGS, STANDINGS.c.subject_id == SUBJECTS.c.id))
    .where(SUBJECTS.c.uscc == bindparam("code"))
    .where(STANDINGS.c.computed_at <= bindparam("at", type_=UtcDateTime()))
)
READ = Read(STMT)


@pytest.mark.parametrize("prepared_reads", [True, False])
def test_read_answers_as_sqlalchemy_does(
    app_factory: Callable[..., Flask], prepared_reads: bool
) -> None:
    app = app_factory(database={"prepared_reads": prepared_reads})
    at = datetime(2026, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)
    data: dict[str, Any] = {"restrictions": [{"名称": "限制"}], "score": 98.5, "none": None}
    with app.app_context(), db.transaction() as session:
        bulk_insert(
            session,
            Subject,
            [{"id": "a", "type": "organization", "name": "北疆", "uscc": "91230500MA1B3N1N2M",
              "org_code": None, "uscc_exception": False, "id_type": None, "id_hash": None,
              "id_cipher": None, "id_masked": None, "created_at": at, "updated_at": at}],
        )  # fmt: skip
        bulk_insert(
            session,
            StandingRow,
            [{"subject_id": "a", "computed_at": at, "valid_until": None, "pack_digest": "d",
              "data": data}],
        )  # fmt: skip
    checkouts: list[object] = []
    with app.app_context():
        engine = db.engine
        event.listen(engine, "checkout", lambda *_: checkouts.append(1))
        READ.all(engine, code="-", at=at)  # the first read makes the thread's connection
        for asked in (at.astimezone(CHINA), at - timedelta(microseconds=1)):
            params = {"code": "91230500MA1B3N1N2M", "at": asked}
            with engine.connect() as conn:
                expected = [tuple(row) for row in conn.execute(STMT, params)]
            checkouts.clear()
            assert READ.all(engine, **params) == expected
            # The prepared reader keeps the thread's own connection; the plain path takes one
            # from the pool for each read.
            assert len(checkouts) == (0 if prepared_reads else 1)
        assert expected == []  # the second instant is before the standing was computed
        assert READ.all(engine, code="91230500MA1B3N1N2M", at=at) == [("a", "北疆", at, data)]
