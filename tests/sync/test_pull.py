"""Pulling: pages applied in order, each with its cursor; while one page is written the next
is prepared (checked and normalised, in a worker process when it is big enough). Either way
the outcome is the same: every good record applied once, a malformed one dead-lettered."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from connectors.base import Connector, PullPage, PushResult
from credithub.db import db
from credithub.records import pipeline
from credithub.records import service as records
from credithub.records.models import Record
from credithub.standing import service as standing
from credithub.standing.models import StandingRow
from credithub.sync import service
from credithub.sync.models import DeadLetter, SyncState
from tests.connectors.filedrop import support as filedrop
from tests.records.samples import ZHUJIAN, make_uscc, penalty


def feed_item(n: int) -> dict[str, Any]:
    record = penalty(f"F-{n}", uscc=make_uscc("91150700", f"{n:08d}"))
    record["authority"] = {"name": "住建局", "uscc": ZHUJIAN}
    record["origin"] = {"hub": "province", "id": f"p-{n}", "version": 1}
    return {"cursor": str(n), "op": "upsert", "record": record}


class Feed(Connector):
    """A platform whose feed is a fixed list, read in pages."""

    type_name = "test-feed"

    def __init__(self, items: list[dict[str, Any]], page: int) -> None:
        super().__init__({"name": "province", "type": "test-feed", "push": False})
        self.items, self.page = items, page
        self.asked: list[str | None] = []

    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        raise AssertionError("not pushed")

    def pull(self, cursor: str | None) -> PullPage:
        self.asked.append(cursor)
        after = int(cursor or 0)
        rest = [i for i in self.items if int(i["cursor"]) > after]
        page = rest[: self.page]
        return PullPage(
            changes=page,
            next_cursor=page[-1]["cursor"] if page else str(after),
            has_more=len(rest) > self.page,
        )


@pytest.mark.parametrize("apart_from", [1, 0], ids=["apart", "here"])
def test_pages_apply_in_order_with_their_cursor(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, apart_from: int
) -> None:
    app = app_factory(hub={"id": "city"}, server={"prepare_apart_from": apart_from})
    items = [feed_item(n) for n in range(1, 511)]
    del items[300]["record"]["subject"]  # malformed: kept as a dead letter, the feed goes on
    feed = Feed(items, page=250)
    with app.app_context():
        result = service.run_one(feed)
        assert result.ok, result.errors
        assert (result.pulled, result.applied, result.rejected) == (510, 509, 1)
        assert feed.asked == [None, "250", "500"]
        session = db.session
        assert session.scalar(select(func.count()).select_from(Record)) == 509
        state = session.get(SyncState, "province")
        assert state is not None
        assert state.pull_cursor == "510"
        [letter] = session.scalars(select(DeadLetter)).all()
        assert (letter.direction, letter.position, letter.record_id) == ("pull", 301, "p-301")
        # Pulling again reads from the stored cursor and changes nothing.
        again = service.run_one(Feed(items, page=250))
        assert (again.pulled, again.applied) == (0, 0)


def test_a_revocation_dropped_as_a_file_lifts_the_record(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    """The 前置机's OP column is the state the record has at its origin: a row sent again as
    `revoke` revokes it here, and the subject's standing no longer counts it."""
    app = app_factory(hub={"id": "city"})
    drop = filedrop.connector(tmp_path, push=False)
    (drop.inbound / "1.csv").write_bytes(filedrop.csv_bytes([filedrop.sgs_row()]))
    with app.app_context():
        assert service.run_one(drop).ok
        [record] = db.session.scalars(select(Record)).all()
        assert record.status == "active"
        assert standing_records(record.subject_id) == [record.id]
    again = filedrop.sgs_row(OP="revoke", ORIGIN_VERSION="2")
    (drop.inbound / "2.csv").write_bytes(filedrop.csv_bytes([again]))
    with app.app_context():
        result = service.run_one(filedrop.connector(tmp_path, push=False))
        assert result.ok, result.errors
        assert (result.pulled, result.applied) == (1, 1)
        [record] = db.session.scalars(select(Record)).all()
        assert (record.status, record.version) == ("revoked", 2)
        assert standing_records(record.subject_id) == []


def standing_records(subject_id: str) -> list[str]:
    """The records the subject's stored standing counts (restrictions and score lines)."""
    row = db.session.get(StandingRow, subject_id)
    assert row is not None
    return sorted({x["record_id"] for x in row.data["explanation"] if x["record_id"]})


def test_pages_after_the_first_are_prepared_apart_from_the_writer(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, real = os.getpid(), records.prepare
    here: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() == writer:
            here.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "prepare", counted)
    if not pipeline.available():
        pytest.skip("no fork or one core: pages are prepared in the writer's process")
    app = app_factory(hub={"id": "city"}, server={"prepare_apart_from": 200})
    items = [feed_item(n) for n in range(1, 601)]
    with app.app_context():
        result = service.run_one(Feed(items, page=200))
        assert result.ok, result.errors
        assert (result.pulled, result.applied, result.rejected) == (600, 600, 0)
    # The first page here, the second in the helper (the third where it was first free).
    assert len(here) in (200, 400)


@pytest.mark.parametrize("apart_from", [1, 0], ids=["apart", "here"])
def test_a_new_subjects_standing_is_the_one_its_records_give(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, apart_from: int
) -> None:
    """Prepared apart or not, a new subject's stored standing is the one its stored records
    give, a peer's revocation (with its time at the origin) included."""
    app = app_factory(hub={"id": "city"}, server={"prepare_apart_from": apart_from})
    uscc = make_uscc("91150700", "77777777")
    items = [feed_item(n) for n in (1, 2, 3)]
    for item in items:
        item["record"]["subject"]["uscc"] = uscc
    # Revoked at its origin a day from now (clocks differ): it counts until then.
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    items[1]["record"] |= {"status": "revoked", "revoked": {"at": later, "reason": "复议撤销"}}
    with app.app_context():
        result = service.run_one(Feed(items, page=10))
        assert (result.applied, result.rejected) == (3, 0)
        [row] = db.session.scalars(select(StandingRow)).all()
        stored = (row.subject_id, row.valid_until, row.data)
        with db.transaction() as session:
            standing.refresh(session, [row.subject_id], now=row.computed_at)
        [again] = db.session.scalars(select(StandingRow)).all()
        assert (again.subject_id, again.valid_until, again.data) == stored
