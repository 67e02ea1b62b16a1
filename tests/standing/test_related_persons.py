"""457号 through the real API: a listing whose list reaches the legal representative restricts
the person it names (with an ID number) too, in the same domains and for the same term, citing
the organization's listing; the person's standing follows every change to the listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub import clock
from credithub.db import db
from credithub.entities.models import Subject
from credithub.standing.jobs import rescore_due
from credithub.standing.models import StandingRow
from tests.records.samples import BEIJIANG, PERSON_ID, ZHUJIAN, make_id_number, represented
from tests.signing import signed_all

Headers = dict[str, str]
DOMAINS = ["construction", "procurement", "land", "state_assets", "medical", "expert", "agency"]


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def bidding(make_token: Callable[..., Headers]) -> Headers:
    return make_token("consumer", name="电子招投标交易平台")


def at(day: str) -> Any:
    return clock.travel(f"{day}T10:00:00+08:00")


BEIJIANG_NAME = "呼伦贝尔市北疆建筑工程有限公司"


def listing(ref: str = "HMD-1", code: str = "ggzy-serious", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "blacklist", "ref": ref, "subject": represented(BEIJIANG, BEIJIANG_NAME),
        "decided_on": "2026-06-02", "list": code, "expires_on": "2027-06-02",
        "basis": "发改法规〔2018〕457号", **extra,
    }  # fmt: skip


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[str]:
    resp = client.post("/api/v1/records", json={"records": signed_all(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    results = resp.get_json()["results"]
    assert all(r["status"] in ("created", "updated") for r in results), results
    return [r["id"] for r in results]


def person(client: FlaskClient, headers: Headers, domain: str) -> dict[str, Any]:
    body = {"domain": domain, "subjects": [{"id_type": "身份证", "id_number": PERSON_ID}]}
    resp = client.post("/api/v1/check", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    [answer] = resp.get_json()["results"]
    return answer  # type: ignore[no-any-return]


def stored_for_person(app: Flask) -> list[dict[str, Any]]:
    with app.app_context():
        pid = db.session.scalar(select(Subject.id).where(Subject.name == "张建国"))
        row = db.session.get(StandingRow, pid)
        assert row is not None
        return list(row.data["restrictions"])


def test_a_reaching_listing_bars_the_legal_representative_until_it_ends(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-06-03"):
        [listed] = push(client, zhujian, listing())
        for domain in DOMAINS:
            answer = person(client, bidding, domain)
            assert answer["verdict"] == "barred", domain
        [r] = person(client, bidding, "construction")["restrictions"]
        assert (r["measure"], r["record_id"], r["until"]) == ("ggzy-bar", listed, "2027-06-02")
        assert "呼伦贝尔市北疆建筑工程有限公司" in r["reason"]
        assert BEIJIANG in r["reason"]
        assert PERSON_ID not in r["reason"]
        # Stored with the write: the check answered from the person's standing.
        assert [x["record_id"] for x in stored_for_person(app)] == [listed]
    with at("2027-06-01"):
        assert person(client, bidding, "construction")["verdict"] == "barred"
    with at("2027-06-02"):  # the listing's term has ended
        assert person(client, bidding, "construction")["verdict"] == "clear"


def test_revoking_the_listing_clears_the_person_too(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-06-03"):
        [listed] = push(client, zhujian, listing())
        assert person(client, bidding, "land")["verdict"] == "barred"
        resp = client.post(f"/api/v1/records/{listed}/revoke", json={"reason": "决定撤销"},
                           headers=zhujian)  # fmt: skip
        assert resp.status_code == 200, resp.get_json()
        assert person(client, bidding, "land")["verdict"] == "clear"
        assert stored_for_person(app) == []


def test_a_listing_naming_another_representative_moves_the_restriction(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-06-03"):
        push(client, zhujian, listing())
        assert person(client, bidding, "construction")["verdict"] == "barred"
        corrected = listing()
        corrected["subject"]["legal_rep"] = {"name": "李四", "id_number": make_id_number(1)}
        push(client, zhujian, corrected)
        assert person(client, bidding, "construction")["verdict"] == "clear"
        assert stored_for_person(app) == []


def test_a_list_that_does_not_reach_the_representative_leaves_the_person_clear(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-06-03"):
        push(client, zhujian, listing(code="gp-serious", expires_on="2027-06-02"))
        assert person(client, bidding, "procurement")["verdict"] == "clear"


def test_a_series_of_batches_reaches_the_person_before_and_after_it_is_settled(
    app: Flask, client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-06-03"):
        body = {"records": signed_all([listing()]), "more": True}
        assert client.post("/api/v1/records", json=body, headers=zhujian).status_code == 200
        assert person(client, bidding, "construction")["verdict"] == "barred"
        push(client, zhujian, listing("HMD-2", expires_on="2026-12-02"))  # the series' end
        assert len(stored_for_person(app)) == 2
        assert person(client, bidding, "construction")["verdict"] == "barred"


def test_the_rescore_job_clears_the_person_when_the_listing_ends(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    with at("2026-06-03"):
        [listed] = push(client, zhujian, listing())
    assert [r["record_id"] for r in stored_for_person(app)] == [listed]
    with at("2027-06-02"), app.app_context():
        rescore_due()
    assert stored_for_person(app) == []
