"""Change-log positions: a transaction that commits later gets higher positions, from the very
first change on (two first writers on an empty hub included)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from credithub.db import db
from credithub.records.changes import reserve_positions
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="on SQLite a writer takes the write lock at BEGIN: writers never meet"
)


def test_two_first_writers_take_positions_one_after_the_other(app: Flask) -> None:
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            assert reserve_positions(first, 3) == 0  # the head row, not yet committed
            taken: list[int | BaseException] = []

            def take() -> None:
                try:
                    taken.append(reserve_positions(second, 2))
                except BaseException as exc:  # reported below, in the test's thread
                    taken.append(exc)

            waiting = threading.Thread(target=take)
            waiting.start()
            waiting.join(0.5)
            assert waiting.is_alive()  # held by the first writer's uncommitted head
            first.commit()
            waiting.join(10)
            second.commit()
            assert taken == [3]
        finally:
            first.close()
            second.close()
