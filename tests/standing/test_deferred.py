"""Standings settled once after a series of batches (credithub.standing.deferred): a push sent
in batches with `more`, and a pull's pages, store the standings a batch-by-batch refresh
stores; in between, a check answers as it would after a refresh; a series left unfinished is
settled by the rescore job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from credithub.clients.service import create_client
from credithub.db import db
from credithub.entities.models import Subject
from credithub.standing.jobs import rescore_due
from credithub.standing.models import StandingDue, StandingRow
from credithub.sync import service as sync
from tests.conftest import empty_database
from tests.records.samples import (
    BEIJIANG,
    SHUDAO,
    ZHUJIAN,
    make_uscc,
    penalty,
    person_subject,
    represented,
)
from tests.standing.test_check_api import listing
from tests.sync.test_pull import Feed

Stored = dict[str, Any]  # subject name -> its stored standing, without the instants


def series() -> list[list[dict[str, Any]]]:
    """Batches naming the same subjects again: an organization whose legal representative is
    listed in a later batch (its standing changes by a batch that does not name it), a company
    corrected and listed in a later batch, and a person."""
    shudao = {"type": "organization", "name": "蜀道", "uscc": SHUDAO}
    other = {"type": "organization", "name": "东方", "uscc": make_uscc("91150700", "D0000001")}
    return [
        [
            penalty("D-1", subject=represented()),
            penalty("D-2", subject=shudao, fine_yuan="1000.00"),
            penalty("D-3", subject=other),
        ],
        [
            penalty("D-2", subject=shudao, fine_yuan="3000000.00"),  # corrected
            listing("D-7", subject=shudao),
            listing("D-5", subject=person_subject()),  # reaches 北疆, which he represents
        ],
        [
            penalty("D-4", subject=person_subject()),
            penalty("D-6", subject=other, categories=["警告"]),
        ],
    ]


@pytest.fixture
def hub(
    app_factory: Callable[..., Flask], database_template: str, tmp_path: Path
) -> Callable[[bool], Flask]:
    """An empty hub, its standings deferred through a series or refreshed by every batch."""

    def make(defer: bool) -> Flask:
        url = empty_database(database_template, tmp_path / f"{defer}.db")
        return app_factory(
            hub={"id": "city"}, database={"url": url}, ingest={"defer_standings": defer}
        )

    return make


def _headers(app: Flask, kind: str = "department") -> dict[str, str]:
    with app.app_context(), db.transaction() as session:
        _, token = create_client(
            session, f"c-{kind}", kind, ZHUJIAN if kind == "department" else None
        )
    return {"Authorization": f"Bearer {token}"}


def _push(app: Flask, headers: dict[str, str], records: list[Any], more: bool) -> None:
    body: dict[str, Any] = {"records": records}
    if more:
        body["more"] = True
    resp = app.test_client().post("/api/v1/records", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    assert all(r["status"] != "rejected" for r in resp.get_json()["results"])


def _plain(value: Any) -> Any:
    """`value` without the ids records were given (each hub makes its own) and the instant it
    was computed at."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in ("record_id", "at")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _stored(app: Flask) -> tuple[Stored, int]:
    """Each subject's stored standing (as it answers checks), and how many are listed due."""
    with app.app_context():
        rows = db.session.execute(
            select(Subject.name, StandingRow.data, StandingRow.valid_until).join(
                StandingRow, StandingRow.subject_id == Subject.id
            )
        ).all()
        due = db.session.scalar(select(func.count()).select_from(StandingDue))
    return {name: (_plain(data), until) for name, data, until in rows}, int(due or 0)


def _verdicts(app: Flask, headers: dict[str, str]) -> dict[str, Any]:
    client = app.test_client()
    out = {}
    for code in (BEIJIANG, SHUDAO):
        resp = client.get(f"/api/v1/check/{code}?domain=construction", headers=headers)
        assert resp.status_code == 200
        answer = resp.get_json()
        out[code] = (answer["verdict"], answer["restrictions"], answer["related"])
    return _plain(out)


def test_a_series_stores_what_a_refresh_after_each_batch_stores(
    hub: Callable[[bool], Flask],
) -> None:
    stored, between = {}, {}
    for defer in (True, False):
        app = hub(defer)
        dept, bidding = _headers(app), _headers(app, "consumer")
        batches = series()
        for i, batch in enumerate(batches):
            _push(app, dept, batch, more=i < len(batches) - 1)
            if i == len(batches) - 2:  # before the last batch: a check answers as after a refresh
                between[defer] = _verdicts(app, bidding)
        stored[defer] = _stored(app)
    assert between[True] == between[False]
    # Before the series ends, computed on the spot: 蜀道 listed, 北疆 by its representative.
    assert between[True][SHUDAO][0] == "barred"
    assert between[True][BEIJIANG][2]
    assert stored[True] == stored[False]
    settled, due = stored[True]
    assert due == 0
    assert len(settled) == 4
    assert settled["北疆"][0]["related"]  # his listing, in a batch that did not name 北疆
    assert settled["蜀道"][0]["restrictions"]


def test_a_batch_of_a_series_leaves_its_standings_due_until_the_series_ends(
    hub: Callable[[bool], Flask],
) -> None:
    app = hub(True)
    dept = _headers(app)
    first, second, _ = series()
    _push(app, dept, first, more=False)
    settled, due = _stored(app)
    assert due == 0
    assert len(settled) == 3
    _push(app, dept, second, more=True)
    with app.app_context():
        due_names = set(
            db.session.scalars(
                select(Subject.name).join(StandingDue, StandingDue.subject_id == Subject.id)
            )
        )
        current = db.session.scalar(
            select(func.count()).where(StandingRow.valid_until > StandingRow.computed_at)
        )
    # 蜀道 (corrected, listed) and the person (new): 北疆, whom he represents, is stale too.
    assert due_names == {"蜀道", "张建国"}
    assert current == 1  # only 东方, which no batch of the series named, answers as stored
    with app.app_context():
        assert rescore_due()["subjects"] >= 2  # a series left unfinished: the job settles it
    after, due = _stored(app)
    assert due == 0
    assert len(after) == 4


def test_a_pull_settles_its_pages_once(hub: Callable[[bool], Flask]) -> None:
    """A pull's pages are a series: its standings equal those of a page-by-page refresh, and
    none is left due when the run ends."""
    items = []
    for n, batch in enumerate(series()):
        for m, record in enumerate(batch):
            record = {**record, "authority": {"name": "住建局", "uscc": ZHUJIAN}}
            record["origin"] = {"hub": "province", "id": f"p-{record['ref']}", "version": 1 + n}
            items.append({"cursor": str(10 * n + m + 1), "op": "upsert", "record": record})
    stored = {}
    for defer in (True, False):
        app = hub(defer)
        with app.app_context():
            result = sync.run_one(Feed(items, page=2))
        assert result.ok, result.errors
        assert result.rejected == 0
        stored[defer] = _stored(app)
    assert stored[True] == stored[False]
    assert stored[True][1] == 0
