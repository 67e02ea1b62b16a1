"""Term bounds: a department's publish_until outside its regime's period for the class, or a
listing's term outside its list's statutory minimum and maximum, is rejected per item with the
bounds named; a peer's record is its origin's decision, taken with a warning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from credithub import clock
from credithub.db import db
from credithub.records.models import Record
from tests.records.samples import PEER_ZHUJIAN, SHUDAO, ZHUJIAN, sgs_row
from tests.signing import signed_all

Headers = dict[str, str]
ORG = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def general(publish_until: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "penalty", "ref": f"P-{publish_until}", "subject": ORG, "decided_on": "2026-05-01",
        "categories": ["暂扣许可证件"], "publish_until": publish_until, **extra,
    }  # fmt: skip


def gp_listing(expires_on: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "blacklist", "ref": f"L-{expires_on}", "subject": ORG, "decided_on": "2026-05-01",
        "list": "gp-serious", "listed_on": "2026-05-01", "expires_on": expires_on, **extra,
    }  # fmt: skip


def results(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[Any]:
    with clock.travel("2026-05-02T10:00:00+08:00"):
        body = {"records": signed_all(records)}
        resp = client.post("/api/v1/records", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["results"]  # type: ignore[no-any-return]


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Record)) or 0


def test_a_departments_terms_outside_their_bounds_are_rejected_naming_them(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    found = results(
        client, zhujian,
        general("2026-07-31"), general("2026-08-01"), general("2027-05-01"), general("2027-05-02"),
        gp_listing("2027-04-30"), gp_listing("2029-05-01"), gp_listing("2029-05-02"),
    )  # fmt: skip
    assert [r["status"] for r in found] == [
        "rejected", "created", "created", "rejected", "rejected", "created", "rejected"
    ]  # fmt: skip
    message = (
        "publish_until must lie between 2026-08-01 and 2027-05-01 "
        "(国家发展改革委令第36号, general: 3–12 months)"
    )
    assert found[0]["errors"] == {"publish_until": [message]}
    assert found[3]["errors"] == {"publish_until": [message]}
    [listed] = found[4]["errors"]["expires_on"]
    assert "between 2027-05-01 and 2029-05-01" in listed
    assert "gp-serious" in listed
    assert "12–36 months" in listed
    assert count(app) == 3  # the rejected items changed nothing


def test_a_sectors_own_minimum_is_the_bound(client: FlaskClient, zhujian: Headers) -> None:
    # 令58: safety records are published at least a year.
    record = general("2024-09-01", decided_on="2024-06-01", sector="safety", ref="P-safety")
    [result] = results(client, zhujian, record)
    [message] = result["errors"]["publish_until"]
    assert "between 2025-06-01 and 2027-06-01" in message
    assert "safety" in message


def test_a_peers_terms_are_its_origins_decision_taken_with_a_warning(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer", hub="city-x")
    authority = {"name": "某市住建局", "uscc": PEER_ZHUJIAN}

    def origin(n: int) -> dict[str, Any]:
        return {"hub": "city-x", "id": f"x-{n}", "version": 1}

    sent = [
        general("2026-07-31", authority=authority, origin=origin(1)),
        gp_listing("2030-01-01", authority=authority, origin=origin(2)),
    ]
    found = results(client, peer, *sent)
    assert [r["status"] for r in found] == ["created", "created"]
    assert any(w.startswith("publish_until: publish_until must lie") for w in found[0]["warnings"])
    assert any("taken as its origin hub decided it" in w for w in found[1]["warnings"])
    assert count(app) == 2


def test_a_sgs_rows_publication_end_outside_its_bounds_is_rejected_by_its_column(
    client: FlaskClient, zhujian: Headers
) -> None:
    # 警告 and a 2,000 yuan fine, decided 2026-05-01: minor under 令36, at most 3 months.
    rows = [sgs_row(1, CF_GSJZQ="2026-12-01"), sgs_row(2, CF_GSJZQ="2026-07-01")]
    with clock.travel("2026-05-02T10:00:00+08:00"):
        resp = client.post("/api/v1/records/sgs", json={"rows": rows}, headers=zhujian)
    assert resp.status_code == 200, resp.get_json()
    first, second = resp.get_json()["results"]
    [message] = first["errors"]["CF_GSJZQ"]
    assert "between 2026-05-01 and 2026-08-01" in message
    assert "minor: 0–3 months" in message
    assert second["status"] == "created"
