"""`db.one_of` finds what `column IN (…)` finds, the list sent as one parameter (an array on
PostgreSQL, a JSON text on SQLite); switched off, it is the IN list (the plain path)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from credithub.db import bulk_insert, db, one_of
from credithub.entities.models import Subject


@pytest.mark.parametrize("array_lookups", [True, False])
def test_one_of_finds_what_in_finds(app_factory: Callable[..., Flask], array_lookups: bool) -> None:
    app = app_factory(database={"array_lookups": array_lookups})
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with app.app_context(), db.transaction() as session:
        bulk_insert(
            session,
            Subject,
            [{"id": f"s{i}", "type": "organization", "name": f"公司{i}", "uscc": None,
              "org_code": None, "uscc_exception": False, "id_type": None, "id_hash": None,
              "id_cipher": None, "id_masked": None, "created_at": at, "updated_at": at}
             for i in range(5)],
        )  # fmt: skip
    keys = ["s3", "s0", "missing", "s3", "公司"]
    with app.app_context():
        session = db.session
        found = session.scalars(select(Subject.id).where(one_of(session, Subject.id, keys)))
        assert sorted(found) == ["s0", "s3"]
        names = select(Subject.name).where(one_of(session, Subject.name, ["公司1", "公司4"]))
        assert sorted(session.scalars(names)) == ["公司1", "公司4"]
        sql = str(one_of(session, Subject.id, keys).compile(session.get_bind()))
        one_parameter = "ANY" in sql or "json_each" in sql
        assert one_parameter == array_lookups
        assert (" IN (" in sql and "json_each" not in sql) == (not array_lookups)
