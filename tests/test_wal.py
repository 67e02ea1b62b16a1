"""SQLite's write-ahead log is copied apart from the commits where a process asks for it, unless
switched off: then every commit copies it as SQLite does by itself (the plain path)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text

from credithub.db import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="the write-ahead log is SQLite's")


def checkpoint_threads() -> int:
    return sum(t.name == "checkpoint" for t in threading.enumerate())


@pytest.mark.parametrize("checkpoints_apart", [True, False])
def test_commits_copy_the_log_only_when_switched_off(
    app_factory: Callable[..., Flask], checkpoints_apart: bool
) -> None:
    app = app_factory(database={"checkpoints_apart": checkpoints_apart})
    with app.app_context():
        db.checkpoints_apart()
        with db.engine.connect() as conn:
            pages = conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
        assert pages == (0 if checkpoints_apart else 1000)  # 1000: SQLite's own
        if not checkpoints_apart:
            before = checkpoint_threads()
            db.checkpoint_behind()
            assert checkpoint_threads() == before
        with db.transaction() as session:  # writes and commits either way
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        db.checkpoint()
        assert db.session.execute(text("SELECT x FROM t")).scalar_one() == 1
