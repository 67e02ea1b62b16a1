"""Standings, as properties, through the real API on the suite's database: the same records
pushed in any order and in any batching give the same standing, and a revoked record never
restricts a subject."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credithub import create_app
from credithub.clients.service import create_client
from credithub.db import db
from tests.conftest import empty_database
from tests.records.samples import BEIJIANG, SHUDAO, ZHUJIAN, penalty
from tests.signing import pinned_peers

DOMAINS = ["construction", "procurement", "land", "state_assets", "medical", "expert", "agency"]
SUBJECTS = {
    BEIJIANG: "呼伦贝尔市北疆建筑工程有限公司",
    SHUDAO: "四川蜀道路桥建设有限公司",
}
AT = "2026-11-01"  # every record below is decided before it


def _org(uscc: str) -> dict[str, Any]:
    return {"type": "organization", "name": SUBJECTS[uscc], "uscc": uscc}


def _listing(ref: str, uscc: str, listed_on: str) -> dict[str, Any]:
    return {
        "kind": "blacklist", "ref": ref, "decided_on": listed_on, "list": "ggzy-serious",
        "listed_on": listed_on, "expires_on": "2029-06-02", "basis": "发改法规〔2018〕457号",
        "subject": _org(uscc),
    }  # fmt: skip


def _misconduct(ref: str, uscc: str, code: str, on: str) -> dict[str, Any]:
    return {
        "kind": "misconduct", "ref": ref, "code": code, "decided_on": on, "occurred_on": on,
        "domains": ["construction"], "subject": _org(uscc),
    }  # fmt: skip


# Records of two subjects that restrict, score or only inform: bars, cautions, points.
POOL: list[dict[str, Any]] = [
    penalty("P-1", subject=_org(BEIJIANG), categories=["罚款"], fine_yuan="2500000.00"),
    penalty("P-2", subject=_org(BEIJIANG), categories=["吊销许可证件"], decided_on="2026-03-02"),
    penalty("P-3", subject=_org(SHUDAO), categories=["警告"]),
    _listing("L-1", SHUDAO, "2026-06-02"),
    _listing("L-2", BEIJIANG, "2026-07-15"),
    _misconduct("M-1", BEIJIANG, "C-BID-COLLUSION", "2026-02-01"),
    _misconduct("M-2", BEIJIANG, "C-BID-FRAUD", "2026-04-01"),
    _misconduct("M-3", SHUDAO, "C-BID-COLLUSION", "2026-05-01"),
]
for _record in POOL[1:3]:
    del _record["fine_yuan"]  # no fine in these decisions


class Hub:
    """A hub on a fresh database, with a department (the deciding authority of every record
    above) and a consumer that checks."""

    def __init__(self, client: FlaskClient, department: dict[str, str], consumer: dict[str, str]):
        self.client, self.department, self.consumer = client, department, consumer

    def push(self, records: list[dict[str, Any]]) -> list[str]:
        resp = self.client.post(
            "/api/v1/records", json={"records": records}, headers=self.department
        )
        assert resp.status_code == 200, resp.get_json()
        results = resp.get_json()["results"]
        assert all(r["status"] == "created" for r in results), results
        return [r["id"] for r in results]

    def revoke(self, record_id: str) -> None:
        resp = self.client.post(
            f"/api/v1/records/{record_id}/revoke",
            json={"reason": "复议撤销"},
            headers=self.department,
        )
        assert resp.status_code == 200, resp.get_json()

    def standing(self, at: str | None = AT) -> dict[tuple[str, str], dict[str, Any]]:
        """Each subject's answer in each domain, as of `at` (None: now)."""
        out = {}
        for domain in DOMAINS:
            body: dict[str, Any] = {"domain": domain, "subjects": [{"uscc": u} for u in SUBJECTS]}
            if at:
                body["at"] = at
            resp = self.client.post("/api/v1/check", json=body, headers=self.consumer)
            assert resp.status_code == 200, resp.get_json()
            for uscc, result in zip(SUBJECTS, resp.get_json()["results"], strict=True):
                out[(uscc, domain)] = result
        return out


@pytest.fixture
def hub_factory(database_template: str, tmp_path: Path) -> Callable[[], Any]:
    """Hubs one after another, each on an empty database of the suite's kind: a new one for each
    example (so the function-scoped fixture is safe to share between examples)."""
    counter = itertools.count()

    @contextmanager
    def make() -> Iterator[Hub]:
        n = next(counter)
        instance = tmp_path / f"instance-{n}"
        instance.mkdir()
        app = create_app(
            {
                "instance_path": instance,
                "testing": True,
                "database": {"url": empty_database(database_template, tmp_path / f"{n}.db")},
                "logging": {"level": "WARNING"},
                "federation": {"keys": pinned_peers()},
            }
        )
        try:
            with app.app_context(), db.transaction() as session:
                _c, department = create_client(session, "住建局", "department", ZHUJIAN)
                _c, consumer = create_client(session, "交易平台", "consumer", None)
            yield Hub(
                app.test_client(),
                {"Authorization": f"Bearer {department}"},
                {"Authorization": f"Bearer {consumer}"},
            )
        finally:
            buffer = app.extensions["credithub.check_log"]
            if buffer is not None:
                buffer.close()
            with app.app_context():
                db.engine.dispose()

    return make


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    """An answer without what names one hub's rows or moment (ids, the receipt)."""
    out = {k: v for k, v in result.items() if k not in ("check", "at")}
    out["restrictions"] = sorted(
        ({k: v for k, v in r.items() if k != "record_id"} for r in result["restrictions"]),
        key=repr,
    )
    return out


@st.composite
def batchings(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Some of the records, in any order, cut into batches of any sizes."""
    records = draw(st.permutations(POOL))
    records = records[: draw(st.integers(min_value=1, max_value=len(POOL)))]
    batches, rest = [], records
    while rest:
        size = draw(st.integers(min_value=1, max_value=len(rest)))
        batches.append(rest[:size])
        rest = rest[size:]
    return batches


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batchings())
def test_the_same_records_in_any_order_and_batching_give_the_same_standing(
    hub_factory: Callable[[], Any], batches: list[list[dict[str, Any]]]
) -> None:
    records = [r for batch in batches for r in batch]
    with hub_factory() as hub:
        hub.push(sorted(records, key=lambda r: r["ref"]))  # one batch, in a fixed order
        expected = {key: _comparable(r) for key, r in hub.standing().items()}
    with hub_factory() as hub:
        for batch in batches:
            hub.push(batch)
        got = {key: _comparable(r) for key, r in hub.standing().items()}
    assert got == expected


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(st.sampled_from(POOL), min_size=1, unique_by=lambda r: r["ref"]),
    data=st.data(),
)
def test_a_revoked_record_never_restricts(
    hub_factory: Callable[[], Any], records: list[dict[str, Any]], data: st.DataObject
) -> None:
    with hub_factory() as hub:
        ids = hub.push(records)
        revoked = set(data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)))
        for record_id in revoked:
            hub.revoke(record_id)
        for at in (None, "2027-06-01"):  # now, and later while the terms run
            for result in hub.standing(at).values():
                assert not {r["record_id"] for r in result["restrictions"]} & revoked
