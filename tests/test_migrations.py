"""The migrations create exactly the schema the models describe, and init-db is repeatable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask

import credithub.models  # noqa: F401
from credithub import migrate
from credithub.db import Base, db


def test_models_match_migrations(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_init_db_is_repeatable(app: Flask, run_cli: Callable[..., Any]) -> None:
    first = run_cli("init-db")
    second = run_cli("init-db")
    assert first.exit_code == second.exit_code == 0
    assert "unchanged" in second.output
    with app.app_context():
        assert migrate.current_revision(db.engine) == migrate.head_revision()
