"""`bulk_insert` stores exactly what SQLAlchemy's own insert stores: dates, UTC instants and
JSON (encoded ahead or not) read back the same, as values and as the database's text; switched
off, it is SQLAlchemy's insert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, select, text

from credithub.db import JsonText, bulk_insert, db, table_of
from credithub.entities.models import Subject, SubjectName
from credithub.standing.models import StandingRow
from tests.conftest import PG_URL

CHINA = timezone(timedelta(hours=8))


def _subject(sid: str, at: datetime) -> dict[str, Any]:
    return {
        "id": sid, "type": "organization", "name": f"公司{sid}", "uscc": None, "org_code": None,
        "uscc_exception": False, "id_type": None, "id_hash": None, "id_cipher": None,
        "id_masked": None, "created_at": at, "updated_at": at,
    }  # fmt: skip


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 1, 8, 0, 0, tzinfo=CHINA),  # no fraction of a second, not in UTC
        datetime(2026, 3, 1, 0, 0, 0, 123456, tzinfo=UTC),
    ],
)
def test_bulk_insert_stores_what_sqlalchemy_stores(app: Flask, at: datetime) -> None:
    data = {"restrictions": [], "score": 98.5, "名称": "警告"}
    with app.app_context(), db.transaction() as session:
        bulk_insert(session, Subject, [_subject("a", at)])
        session.execute(insert(table_of(Subject)), [_subject("b", at)])
        names = [
            {"subject_id": sid, "name": "甲", "first_seen": date(2026, 1, 2), "last_seen": day}
            for sid, day in (("a", date(2026, 12, 31)), ("b", date(2026, 12, 31)))
        ]
        bulk_insert(session, SubjectName, names[:1])
        session.execute(insert(table_of(SubjectName)), names[1:])
        standings = [
            {"subject_id": sid, "computed_at": at, "valid_until": until, "pack_digest": "d",
             "data": value}
            for sid, until, value in (("a", None, JsonText.of(data)), ("b", None, data))
        ]  # fmt: skip
        bulk_insert(session, StandingRow, standings[:1])
        session.execute(insert(table_of(StandingRow)), standings[1:])
    with app.app_context():
        conn = db.session.connection()
        stored = {
            sid: (created, first, last, computed, until, body)
            for sid, created, first, last, computed, until, body in conn.execute(
                text(
                    "SELECT s.id, CAST(s.created_at AS TEXT), CAST(n.first_seen AS TEXT), "
                    "CAST(n.last_seen AS TEXT), CAST(t.computed_at AS TEXT), "
                    "CAST(t.valid_until AS TEXT), CAST(t.data AS TEXT) FROM subjects s "
                    "JOIN subject_names n ON n.subject_id = s.id "
                    "JOIN standings t ON t.subject_id = s.id"
                )
            )
        }
        assert stored["a"] == stored["b"]
        row = db.session.get(StandingRow, "a")
        assert row is not None
        assert (row.data, row.computed_at) == (data, at)
        subject = db.session.get(Subject, "a")
        assert subject is not None
        assert subject.created_at == at


def test_repeated_dates_and_instants_are_stored_as_each_alone(app: Flask) -> None:
    # A batch binds each distinct date or instant once: equal instants given in two time zones,
    # None among them, and values repeated out of order are each stored as on their own.
    days = [date(2026, 1, 2), date(2026, 3, 4), date(2026, 1, 2), date(2026, 3, 4)]
    instants = [
        datetime(2026, 3, 1, 8, 0, 0, tzinfo=CHINA),
        datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC),  # the same instant
        None,
        datetime(2026, 3, 2, 0, 0, 0, 1, tzinfo=UTC),
    ]
    with app.app_context(), db.transaction() as session:
        at = datetime(2026, 3, 1, tzinfo=UTC)
        bulk_insert(session, Subject, [_subject(f"s{i}", at) for i in range(4)])
        bulk_insert(
            session,
            SubjectName,
            [
                {"subject_id": f"s{i}", "name": "甲", "first_seen": d, "last_seen": d}
                for i, d in enumerate(days)
            ],
        )
        bulk_insert(
            session,
            StandingRow,
            [
                {"subject_id": f"s{i}", "computed_at": at, "valid_until": until,
                 "pack_digest": "d", "data": {}}
                for i, until in enumerate(instants)
            ],
        )  # fmt: skip
    with app.app_context():
        rows = db.session.execute(
            select(SubjectName.subject_id, SubjectName.first_seen).order_by(SubjectName.subject_id)
        ).all()
        assert [d for _, d in rows] == days
        stored = {
            r.subject_id: r.valid_until
            for r in db.session.scalars(select(StandingRow).order_by(StandingRow.subject_id))
        }
        assert [stored[f"s{i}"] for i in range(4)] == instants
        texts = db.session.execute(
            text("SELECT CAST(valid_until AS TEXT) FROM standings ORDER BY subject_id")
        ).scalars()
        first, second, *_ = texts
        assert first == second


@pytest.mark.parametrize("bulk_binds", [True, False])
def test_the_switch_takes_sqlalchemys_own_insert(
    app_factory: Callable[..., Flask], bulk_binds: bool
) -> None:
    """`database.bulk_binds` off: bulk_insert is SQLAlchemy's compiled insert (the plain path);
    on, the rows go to the driver (an executemany of its own, or COPY), and read back alike."""
    app = app_factory(database={"bulk_binds": bulk_binds})
    at = datetime(2026, 3, 1, 8, 0, 0, tzinfo=CHINA)
    compiled: list[bool] = []

    def seen(_conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("INSERT"):
            compiled.append(context.compiled is not None)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
        with db.transaction() as session:
            bulk_insert(session, Subject, [_subject("a", at), _subject("b", at)])
            data = {"名称": "警告", "score": 98.5}
            bulk_insert(
                session,
                StandingRow,
                [{"subject_id": "a", "computed_at": at, "valid_until": None, "pack_digest": "d",
                  "data": JsonText.of(data)}],
            )  # fmt: skip
        event.remove(db.engine, "before_cursor_execute", seen)
        row = db.session.get(StandingRow, "a")
        assert row is not None
        assert (row.data, row.computed_at) == (data, at)
    assert compiled == ([] if bulk_binds and PG_URL else [not bulk_binds] * 2)
