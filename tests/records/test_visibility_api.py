"""Visibility through the real API, the clock moved: the public API shows a record only inside
its publication window (a 令36 minor one never), consumers see what restricts even after
publication ended, and nobody but the office sees a record past the 5-year limit unless a
measure it carries still runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from credithub.db import db
from credithub.rules.pack_load import SHIPPED
from credithub.standing.jobs import rescore_due
from credithub.standing.service import stored_standings
from tests.records.samples import CAIZHENG, PERSON_ID, SHUDAO, ZHUJIAN, person_subject
from tests.signing import signed_all

Headers = dict[str, str]
ORG = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def bidding(make_token: Callable[..., Headers]) -> Headers:
    return make_token("consumer", name="电子招投标交易平台")


def at(day: str) -> Any:
    return clock.travel(f"{day}T10:00:00+08:00")


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[str]:
    resp = client.post("/api/v1/records", json={"records": signed_all(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    results = resp.get_json()["results"]
    assert all(r["status"] == "created" for r in results), results
    return [r["id"] for r in results]


def penalty(ref: str, categories: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "penalty", "ref": ref, "subject": ORG, "decided_on": "2026-05-01",
        "categories": categories, "basis": "《建筑法》第六十五条", **extra,
    }  # fmt: skip


def public_ids(client: FlaskClient) -> set[str]:
    """The ids of the records the public profile shows (none: the subject is not found)."""
    resp = client.get(f"/api/v1/public/entities/{SHUDAO}")
    if resp.status_code == 404:
        return set()
    assert resp.status_code == 200, resp.get_json()
    return {r["id"] for r in resp.get_json()["records"]}


def consumer_ids(client: FlaskClient, headers: Headers) -> set[str]:
    resp = client.get(f"/api/v1/entities/{SHUDAO}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    listed = client.get(f"/api/v1/records?subject={SHUDAO}", headers=headers).get_json()
    shown = {r["id"] for r in resp.get_json()["records"]}
    assert {r["id"] for r in listed["items"]} == shown
    assert listed["total"] == len(shown)
    return shown


def verdict(client: FlaskClient, headers: Headers, domain: str) -> str:
    resp = client.get(f"/api/v1/check/{SHUDAO}?domain={domain}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return str(resp.get_json()["verdict"])


def test_a_minor_penalty_under_order_36_is_never_public_but_consumers_see_it(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    with at("2026-05-02"):
        [minor] = push(client, zhujian, penalty("P-minor", ["警告"]))
        assert public_ids(client) == set()
        found = client.get("/api/v1/public/entities?q=蜀道").get_json()
        assert found["total"] == 0
        assert found["items"] == []
        assert consumer_ids(client, bidding) == {minor}
        assert verdict(client, bidding, "construction") == "clear"  # it restricts nothing
        resp = client.get(f"/api/v1/records/{minor}", headers=bidding)
        assert resp.status_code == 200
        assert "history" not in resp.get_json()
        assert "history" in client.get(f"/api/v1/records/{minor}", headers=zhujian).get_json()
    with at("2026-08-02"):
        assert public_ids(client) == set()


def test_a_serious_penalty_is_public_for_exactly_its_window_and_bars_after_it(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    # 吊销许可证件: serious; it starts the 3-year procurement bar (重大违法记录). Published for
    # 12 months, the minimum of its class: publication ends long before the bar does.
    with at("2026-05-01"):
        [serious] = push(
            client, zhujian, penalty("P-serious", ["吊销许可证件"], publish_until="2027-05-01")
        )
    with at("2026-04-30"):  # the day before its window opens
        assert public_ids(client) == set()
    for first_or_last in ("2026-05-01", "2027-04-30"):
        with at(first_or_last):
            assert public_ids(client) == {serious}
            [item] = client.get("/api/v1/public/entities?q=蜀道路桥").get_json()["items"]
            assert item["uscc"] == SHUDAO
            profile = client.get(f"/api/v1/public/entities/{SHUDAO}").get_json()
            assert [r["record_id"] for r in profile["restrictions"]] == [serious]
    with at("2027-05-01"):  # the day after its last day
        assert public_ids(client) == set()
        assert client.get("/api/v1/public/entities?q=蜀道路桥").get_json()["total"] == 0
        assert consumer_ids(client, bidding) == {serious}
        assert verdict(client, bidding, "procurement") == "barred"
    with at("2029-05-01"):  # the bar ended: counted still, restricting nothing
        assert verdict(client, bidding, "procurement") == "clear"
        assert consumer_ids(client, bidding) == {serious}
    with at("2031-05-01"):  # five years after the act: gone for consumers, kept for the office
        assert consumer_ids(client, bidding) == set()
        assert client.get(f"/api/v1/records/{serious}", headers=bidding).status_code == 404
        assert client.get(f"/api/v1/records/{serious}", headers=zhujian).status_code == 200
        admin_view = client.get(f"/api/v1/entities/{SHUDAO}", headers=zhujian).get_json()
        assert [r["id"] for r in admin_view["records"]] == [serious]


def test_a_record_past_the_limit_shows_while_its_measure_still_runs(
    client: FlaskClient, zhujian: Headers, bidding: Headers
) -> None:
    person = person_subject()
    listing = {
        "kind": "blacklist", "ref": "E-1", "subject": person, "decided_on": "2026-05-01",
        "list": "expert-disqualified", "basis": "《招标投标法实施条例》第七十二条",
    }  # fmt: skip
    with at("2026-05-01"):
        [listed] = push(client, zhujian, listing)
    with at("2032-01-01"):
        body = {"domain": "expert", "subjects": [{"id_number": PERSON_ID}]}
        [answer] = client.post("/api/v1/check", json=body, headers=bidding).get_json()["results"]
        assert answer["verdict"] == "barred"
        assert client.get(f"/api/v1/records/{listed}", headers=bidding).status_code == 200
        listed_now = client.get("/api/v1/records?kind=blacklist", headers=bidding).get_json()
        assert [r["id"] for r in listed_now["items"]] == [listed]


def test_the_public_api_is_open_and_refuses_bad_input(client: FlaskClient) -> None:
    assert client.get("/api/v1/public/entities?q=").status_code == 422
    assert client.get("/api/v1/public/entities").status_code == 422
    assert client.get("/api/v1/public/entities?q=x&page=0").status_code == 422
    assert client.get("/api/v1/public/entities/not-a-uscc").status_code == 422
    assert client.get(f"/api/v1/public/entities/{SHUDAO}").status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/public/entities", "/api/v1/public/entities/{uscc}"):
        assert spec["paths"][path]["get"]["security"] == []


def test_the_limit_takes_a_record_out_of_the_score_and_the_rescore_job_finds_it(
    app_factory: Callable[..., Flask], tmp_path: Path, make_token: Callable[..., Headers]
) -> None:
    # A pack whose deductions decay over 7 years: at 5 years the limit, not the decay, ends one.
    text = (SHIPPED / "default.toml").read_text(encoding="utf-8")
    long_decay = tmp_path / "long.toml"
    long_decay.write_text(text.replace("decay_months = 36", "decay_months = 84"), "utf-8")
    app = app_factory(rules={"pack": str(long_decay)})
    client = app.test_client()
    from credithub.clients.service import create_client

    with app.app_context(), db.transaction() as session:
        _, token = create_client(session, "住建局", "department", ZHUJIAN)
    dept = {"Authorization": f"Bearer {token}"}
    with at("2026-05-01"):
        [fined] = push(client, dept, penalty("P-1", ["罚款"], fine_yuan="1000"))
    with app.app_context():
        subject_id = next(iter(stored_standings(db.session, _all_subjects())))
    with at("2031-04-30"), app.app_context():
        rescore_due()
        lines = stored_standings(db.session, [subject_id])[subject_id].data["explanation"]
        assert [x["record_id"] for x in lines if x["record_id"]] == [fined]
        assert next(x for x in lines if x["record_id"])["amount"] < 0
    with at("2031-05-01"), app.app_context():
        assert rescore_due()["subjects"] >= 1  # due: the record crossed the limit
        row = stored_standings(db.session, [subject_id])[subject_id]
        assert [x for x in row.data["explanation"] if x["record_id"]] == []
        assert row.data["score"] == 100


def _all_subjects() -> list[str]:
    from sqlalchemy import select

    from credithub.entities.models import Subject

    return list(db.session.scalars(select(Subject.id)))


def test_a_revoked_record_is_for_the_office_and_its_department_only(
    client: FlaskClient, zhujian: Headers, bidding: Headers, make_token: Callable[..., Headers]
) -> None:
    other = make_token("department", uscc=CAIZHENG, name="财政局")
    admin = make_token("admin")
    with at("2026-05-02"):
        [fined] = push(client, zhujian, penalty("P-1", ["暂扣许可证件"]))
        resp = client.post(f"/api/v1/records/{fined}/revoke", json={"reason": "撤销"},
                           headers=zhujian)  # fmt: skip
        assert resp.status_code == 200
        for headers in (bidding, other):
            assert client.get(f"/api/v1/records/{fined}", headers=headers).status_code == 404
            assert consumer_ids(client, headers) == set()
        for headers in (zhujian, admin):
            seen = client.get(f"/api/v1/records/{fined}", headers=headers).get_json()
            assert seen["status"] == "revoked"
            assert len(seen["history"]) == 2
        assert public_ids(client) == set()
        assert client.get(f"/api/v1/records/{fined}").status_code == 401


def test_the_public_finds_a_listed_person_by_name_with_the_id_number_masked(
    client: FlaskClient, zhujian: Headers
) -> None:
    listing = {
        "kind": "blacklist", "ref": "E-1", "subject": person_subject(), "decided_on": "2026-05-01",
        "list": "expert-disqualified", "basis": "《招标投标法实施条例》第七十二条",
    }  # fmt: skip
    with at("2026-05-01"):
        push(client, zhujian, listing)
        resp = client.get("/api/v1/public/entities?q=张建国")
        assert resp.status_code == 200
        [item] = resp.get_json()["items"]
        assert item["type"] == "person"
        assert item["id_number"] == "110105********002X"
        assert PERSON_ID not in resp.get_data(as_text=True)
        # An ID number is never taken in a URL (persons are checked by POST only).
        assert client.get(f"/api/v1/public/entities?q={PERSON_ID}").status_code == 400
