"""Screening receipts: a procuring entity proves what the hub told it, and lists its checks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from tests.records.samples import BEIJIANG, PERSON_ID, SHUDAO, ZHUJIAN

Headers = dict[str, str]
ORG = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}
LISTING = {
    "kind": "blacklist", "ref": "呼住建黑〔2026〕9号", "decided_on": "2026-06-02",
    "list": "ggzy-serious", "listed_on": "2026-06-02", "expires_on": "2029-06-02",
    "basis": "发改法规〔2018〕457号", "reason": "串通投标", "subject": ORG,
}  # fmt: skip


@pytest.fixture
def bidding(make_token: Callable[..., Headers]) -> Headers:
    return make_token("consumer", name="电子招投标交易平台")


@pytest.fixture
def barred(client: FlaskClient, make_token: Callable[..., Headers]) -> None:
    zhujian = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    resp = client.post("/api/v1/records", json={"records": [LISTING]}, headers=zhujian)
    assert resp.status_code == 200, resp.get_json()


def verify(client: FlaskClient, headers: Headers, answer: Any) -> Any:
    resp = client.post("/api/v1/checks/verify", json=answer, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def single(client: FlaskClient, headers: Headers, uscc: str = SHUDAO) -> Any:
    resp = client.get(f"/api/v1/check/{uscc}?domain=construction", headers=headers)
    assert resp.status_code == 200
    return resp.get_json()


@pytest.mark.usefixtures("barred")
def test_a_single_answer_verifies_as_given_right_after_the_check(
    client: FlaskClient, bidding: Headers, make_token: Callable[..., Headers]
) -> None:
    answer = single(client, bidding)  # its log row still in the worker's buffer
    assert answer["verdict"] == "barred"
    proof = verify(client, bidding, answer)
    assert proof == {
        "recorded": True,
        "asked_at": answer["check"]["asked_at"],
        "client": "电子招投标交易平台",
    }
    # Anyone the answer is shown to may verify it: a department here.
    other = make_token("department", uscc=ZHUJIAN)
    assert verify(client, other, answer)["recorded"] is True


@pytest.mark.usefixtures("barred")
def test_an_altered_answer_does_not_verify(client: FlaskClient, bidding: Headers) -> None:
    answer = single(client, bidding)
    cleared = copy.deepcopy(answer)
    cleared["verdict"] = "clear"
    lighter = copy.deepcopy(answer)
    lighter["restrictions"] = []
    elsewhere = copy.deepcopy(answer)
    elsewhere["check"]["asked_at"] = "2026-01-01T00:00:00+00:00"
    forged = copy.deepcopy(cleared)
    forged["check"]["digest"] = answer["check"]["digest"]
    for altered in (cleared, lighter, elsewhere, forged):
        assert verify(client, bidding, altered) == {"recorded": False}
    assert verify(client, bidding, answer)["recorded"] is True


def test_every_answer_of_a_batch_verifies(
    client: FlaskClient, bidding: Headers, barred: None
) -> None:
    subjects = [{"uscc": SHUDAO}, {"uscc": BEIJIANG}, {"id_type": "身份证", "id_number": PERSON_ID}]
    resp = client.post(
        "/api/v1/check", json={"domain": "procurement", "subjects": subjects}, headers=bidding
    )
    answers = resp.get_json()["results"]
    assert [a["verdict"] for a in answers] == ["barred", "clear", "clear"]
    for answer in answers:
        assert verify(client, bidding, answer)["recorded"] is True
    cleared = {**answers[0], "verdict": "clear", "restrictions": []}
    assert verify(client, bidding, cleared)["recorded"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"verdict": "barred"},  # no check member
        {"verdict": "barred", "check": {"digest": "x", "asked_at": "yesterday"}},
        {"verdict": "barred", "check": {"digest": "x", "asked_at": 5}},
        {"verdict": "barred", "score": 3, "check": {"asked_at": "2026-12-01T00:00:00+00:00"}},
    ],
)
def test_a_malformed_answer_is_not_recorded_or_refused_never_a_500(
    client: FlaskClient, bidding: Headers, body: dict[str, Any]
) -> None:
    resp = client.post("/api/v1/checks/verify", json=body, headers=bidding)
    assert resp.status_code in (200, 422), resp.get_json()
    if resp.status_code == 200:
        assert resp.get_json() == {"recorded": False}


def test_verify_needs_a_token(client: FlaskClient) -> None:
    assert client.post("/api/v1/checks/verify", json={"check": {}}).status_code == 401
    assert client.get("/api/v1/checks").status_code == 401


def test_the_list_shows_the_callers_own_checks_filtered_by_subject_and_dates(
    app: Flask, client: FlaskClient, bidding: Headers, make_token: Callable[..., Headers]
) -> None:
    other = make_token("consumer", name="政府采购平台")
    admin = make_token("admin")
    with clock.travel("2026-11-02T10:00:00+08:00"):
        early = single(client, bidding, SHUDAO)
    with clock.travel("2026-11-20T10:00:00+08:00"):
        single(client, bidding, BEIJIANG)
        single(client, other, SHUDAO)
    later = single(client, bidding, SHUDAO)

    def listed(headers: Headers, query: str = "") -> list[dict[str, Any]]:
        resp = client.get(f"/api/v1/checks{query}", headers=headers)
        assert resp.status_code == 200, resp.get_json()
        items: list[dict[str, Any]] = resp.get_json()["items"]
        return items

    mine = listed(bidding)
    assert [i["subject"] for i in mine] == [SHUDAO, BEIJIANG, SHUDAO]  # newest first
    assert {i["client"] for i in mine} == {"电子招投标交易平台"}
    assert mine[0]["digest"] == later["check"]["digest"]
    assert mine[-1] == {
        "digest": early["check"]["digest"], "asked_at": early["check"]["asked_at"],
        "client": "电子招投标交易平台", "domain": "construction", "at": early["at"],
        "subject": SHUDAO, "verdict": "clear",
    }  # fmt: skip
    assert [i["digest"] for i in listed(bidding, f"?subject={SHUDAO}")] == [
        later["check"]["digest"], early["check"]["digest"]
    ]  # fmt: skip
    november = listed(bidding, "?from=2026-11-01&to=2026-11-20")
    assert [i["subject"] for i in november] == [BEIJIANG, SHUDAO]  # `to` takes its whole day
    assert [i["subject"] for i in listed(bidding, "?from=2026-11-03&to=2026-11-30")] == [BEIJIANG]
    # Another client's checks are not shown, even when asked for; admin sees and filters all.
    assert listed(bidding, "?client=政府采购平台") == mine
    assert len(listed(admin)) == 4
    assert [i["client"] for i in listed(admin, "?client=政府采购平台")] == ["政府采购平台"]
    page = client.get("/api/v1/checks?page=2&page_size=2", headers=bidding).get_json()
    assert (page["total"], page["page"], len(page["items"])) == (3, 2, 1)
    bad = client.get("/api/v1/checks?from=someday", headers=bidding)
    assert bad.status_code == 422


def test_the_receipt_endpoints_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/checks"]
    assert "post" in paths["/api/v1/checks/verify"]
