"""The audit trail is append-only and hash-chained; `credithub audit verify` finds any tampering."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError

from credithub import audit
from credithub.audit.models import AuditEntry
from credithub.db import db
from tests.conftest import PG_URL


def add_entries(app: Flask, n: int, per_tx: int = 1) -> None:
    with app.app_context():
        for i in range(0, n, per_tx):
            with db.transaction() as session:
                for j in range(i, min(n, i + per_tx)):
                    audit.record(session, "tester", "thing.do", "thing", f"t{j}", {"n": j})


def behind_the_back(app: Flask, sql: str) -> None:
    """Change the table the way someone with database access would: no triggers, no service."""
    with app.app_context(), db.engine.begin() as conn:
        if PG_URL:
            conn.exec_driver_sql(
                "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"
            )
            conn.exec_driver_sql(sql)
            conn.exec_driver_sql(
                "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"
            )
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_delete")
            conn.exec_driver_sql(sql)


def test_entries_chain_in_commit_order(app: Flask) -> None:
    add_entries(app, 7, per_tx=3)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [e.seq for e in entries] == list(range(1, 8))
        assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(entries))
        result = audit.verify(db.session)
    assert result.ok
    assert result.entries == 7


def test_rolled_back_work_leaves_no_entry(app: Flask) -> None:
    with app.app_context():

        def fails() -> None:
            with db.transaction() as session:
                audit.record(session, "tester", "x", "thing", "1")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            fails()
        with db.transaction() as session:
            audit.record(session, "tester", "y", "thing", "2")
        assert db.session.scalars(select(AuditEntry.action)).all() == ["y"]
        assert audit.verify(db.session).ok


def test_database_refuses_update_and_delete(app: Flask) -> None:
    add_entries(app, 2)
    with app.app_context():
        for sql in ("UPDATE audit_entries SET actor = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
                conn.exec_driver_sql(sql)


@pytest.mark.parametrize(
    ("sql", "finding"),
    [
        ("UPDATE audit_entries SET actor = 'someone else' WHERE seq = 2", "entry 2: content"),
        (
            "UPDATE audit_entries SET detail = '{\"n\":99}' WHERE seq = 3",
            "entry 3: its recorded change",
        ),
        ("DELETE FROM audit_entries WHERE seq = 2", "entry 2: missing"),
        ("DELETE FROM audit_entries WHERE seq = 4", "chain head"),
    ],
)
def test_verify_detects_tampering(
    app: Flask, run_cli: Callable[..., Any], sql: str, finding: str
) -> None:
    add_entries(app, 4)
    ok = run_cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "4 entries" in ok.output
    behind_the_back(app, sql)
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1
    assert finding in broken.output
