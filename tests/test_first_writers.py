"""The change log and the audit chain on an empty hub: two first writers meet on the head row
that orders them, and the second waits for the first instead of failing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from credithub import audit
from credithub.audit import service as audit_service
from credithub.db import db
from credithub.records.changes import reserve_positions
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="on SQLite a writer takes the write lock at BEGIN: writers never meet"
)


def in_turn(first: Callable[[], Any], second: Callable[[], Any]) -> Any:
    """Run `second` in a thread while `first`'s transaction is open: it must wait for it.
    Returns what `second` gave, or raises what it raised."""
    taken: list[Any] = []

    def take() -> None:
        try:
            taken.append(second())
        except BaseException as exc:  # reported below, in the test's thread
            taken.append(exc)

    waiting = threading.Thread(target=take)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # held by the first writer's uncommitted head row
    first()
    waiting.join(10)
    [got] = taken
    if isinstance(got, BaseException):
        raise got
    return got


def test_two_first_writers_take_positions_one_after_the_other(app: Flask) -> None:
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            assert reserve_positions(first, 3) == 0  # the head row, not yet committed
            assert in_turn(first.commit, lambda: reserve_positions(second, 2)) == 3
            second.commit()
        finally:
            first.close()
            second.close()


def test_two_first_auditors_chain_one_after_the_other(app: Flask) -> None:
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            audit.record(first, "office", "client.create", "client", "a")
            audit_service.seal(first)  # the chain's head row, not yet committed

            def seal_second() -> None:
                audit.record(second, "office", "client.create", "client", "b")
                audit_service.seal(second)

            in_turn(first.commit, seal_second)
            second.commit()
            result = audit_service.verify(db.session)
            assert result.entries == 2
            assert result.problems == []
        finally:
            first.close()
            second.close()
