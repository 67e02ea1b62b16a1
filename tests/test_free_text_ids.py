"""ID numbers written into free text (facts, reasons, notes …) are masked on the way in, on
every intake path, so no table holds one in clear; a USCC of digits is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.base import Connector, PullPage, PushResult
from credithub import clock
from credithub.db import db
from credithub.db.columns import Base
from credithub.sync import service
from tests.records.samples import ZHUJIAN, make_id_number, penalty, sgs_csv, sgs_row
from tests.signing import signed
from tests.workflows.helpers import listing, push

Headers = dict[str, str]
NEW_ID = make_id_number(7)  # 18 digits, check character right
NEW_MASKED = NEW_ID[:6] + "********" + NEW_ID[-4:]
OLD_ID = "150102800101123"  # a first-generation number: 15 digits, born 1980-01-01
OLD_MASKED = "150102*****1123"
DIGIT_USCC = "911507000123456780"  # 18 digits, no valid ID check character: not a person
TEXT = f"当事人王某（身份证号{NEW_ID}，旧证{OLD_ID}）受{DIGIT_USCC}公司委托"


def in_clear(app: Flask) -> list[str]:
    """Every stored value, in any table, that holds one of the numbers in clear."""
    found = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)).all():
                for value in row:
                    text = str(value)
                    if NEW_ID in text or OLD_ID in text:
                        found.append(f"{table.name}: {text[:200]}")
    return found


def stored_texts(app: Flask) -> str:
    with app.app_context():
        rows = db.session.execute(select(Base.metadata.tables["records"].c.content)).all()
        return " ".join(str(r[0]) for r in rows)


def assert_masked(app: Flask) -> None:
    assert in_clear(app) == []
    texts = stored_texts(app)
    assert NEW_MASKED in texts
    assert OLD_MASKED in texts
    assert DIGIT_USCC in texts


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def test_a_pushed_records_free_text_is_stored_masked(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    records = [
        penalty(facts=TEXT, basis=TEXT, content=TEXT, violation=TEXT[:500], note=TEXT),
        listing(reason=TEXT),
    ]
    answer = client.post("/api/v1/records", json={"records": records}, headers=zhujian)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["accepted"] == 2, answer.get_json()
    assert_masked(app)
    (item,) = client.get("/api/v1/records?kind=penalty", headers=zhujian).get_json()["items"]
    assert item["facts"] == TEXT.replace(NEW_ID, NEW_MASKED).replace(OLD_ID, OLD_MASKED)


def test_a_misconduct_description_is_stored_masked(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    admin = make_token("admin", name="联合办公室")
    code = next(iter(app.extensions["credithub.rule_pack"].misconduct))
    record = {
        "kind": "misconduct", "ref": "M-1", "decided_on": "2026-03-01", "code": code,
        "subject": {"type": "organization", "name": "北疆", "uscc": "91230500MA1B3N1N2M"},
        "authority": {"name": "住建局", "uscc": ZHUJIAN}, "description": TEXT, "project": "某工程",
    }  # fmt: skip
    answer = client.post("/api/v1/records", json={"records": [record]}, headers=admin)
    assert answer.get_json()["accepted"] == 1, answer.get_json()
    assert_masked(app)


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_an_imported_rows_free_text_is_stored_masked(
    app: Flask, client: FlaskClient, zhujian: Headers, kind: str
) -> None:
    rows = [sgs_row(CF_SY=TEXT, CF_YJ=TEXT, CF_NR=TEXT)]
    if kind == "csv":
        answer = client.post("/api/v1/records/sgs", data=sgs_csv(rows),
                             headers={**zhujian, "Content-Type": "text/csv"})  # fmt: skip
    else:
        answer = client.post("/api/v1/records/sgs", json={"rows": rows}, headers=zhujian)
    assert answer.get_json()["accepted"] == 1, answer.get_json()
    assert_masked(app)


def test_a_peers_record_is_stored_masked(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer", hub="province")
    record = penalty(facts=TEXT, authority={"name": "住建局", "uscc": ZHUJIAN},
                     origin={"hub": "province", "id": "p-1", "version": 1})  # fmt: skip
    answer = client.post("/api/v1/records", json={"records": [signed(record)]}, headers=peer)
    assert answer.get_json()["accepted"] == 1, answer.get_json()
    assert_masked(app)


class Feed(Connector):
    """A peer whose feed is one page."""

    type_name = "test-feed"

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__({"name": "province", "type": "test-feed", "push": False})
        self.items = items

    def push(self, changes: Any, more: bool = False) -> list[PushResult]:
        raise AssertionError("not pushed")

    def pull(self, cursor: str | None) -> PullPage:
        page = [] if cursor else self.items
        return PullPage(changes=page, next_cursor="1", has_more=False)


def test_a_pulled_record_is_stored_masked(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(hub={"id": "city"})
    record = penalty(facts=TEXT, authority={"name": "住建局", "uscc": ZHUJIAN},
                     origin={"hub": "province", "id": "p-1", "version": 1})  # fmt: skip
    with app.app_context():
        result = service.run_one(Feed([{"cursor": "1", "op": "upsert", "record": record}]))
        assert (result.applied, result.rejected) == (1, 0), result.errors
    assert_masked(app)


def test_a_pulled_record_with_a_nul_is_rejected(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(hub={"id": "city"})
    record = penalty(facts="a\u0000b", authority={"name": "住建局", "uscc": ZHUJIAN},
                     origin={"hub": "province", "id": "p-1", "version": 1})  # fmt: skip
    with app.app_context():
        result = service.run_one(Feed([{"cursor": "1", "op": "upsert", "record": record}]))
        assert (result.applied, result.rejected) == (0, 1), result


def test_objection_and_repair_texts_are_stored_masked(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    zhujian = make_token("department", uscc=ZHUJIAN, name="住建局")
    admin = make_token("admin", name="联合办公室")
    with clock.travel("2026-01-21T10:00:00+08:00"):
        record_id = push(client, zhujian, listing())
        other = push(client, zhujian, listing("呼住建黑〔2026〕10号"))
    body = {"record_id": record_id, "applicant": f"代理人{NEW_ID}", "reason": TEXT}
    answer = client.post("/api/v1/objections", json=body, headers=admin)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert NEW_ID not in answer.get_data(as_text=True)
    objection = answer.get_json()["id"]
    note = {"reason": TEXT}
    answer = client.post(f"/api/v1/objections/{objection}/refuse", json=note, headers=admin)
    assert answer.status_code in (200, 409), answer.get_data(as_text=True)
    body = {"record_id": other, "commitment": True, "evidence": TEXT}
    with clock.travel("2027-01-21T10:00:00+08:00"):  # a year on the list: may be repaired
        answer = client.post("/api/v1/repairs", json=body, headers=zhujian)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert in_clear(app) == []
