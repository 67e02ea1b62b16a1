"""Departments push records: per-item results, versions, scoping, revocation, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.entities.models import Subject
from credithub.records.models import Record, RecordChange
from tests.records import samples
from tests.records.samples import (
    BEIJIANG,
    CAIZHENG,
    PEER_ZHUJIAN,
    PERSON_ID,
    SHUDAO,
    ZHUJIAN,
    penalty,
)
from tests.signing import signed_all

Headers = dict[str, str]


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


@pytest.fixture
def caizheng(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=CAIZHENG, name="呼伦贝尔市财政局")


def push(
    client: FlaskClient, headers: Headers, *records: dict[str, Any], atomic: bool = False
) -> Any:
    url = "/api/v1/records" + ("?atomic=true" if atomic else "")
    return client.post(url, json={"records": signed_all(records)}, headers=headers)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def pack_code(app: Flask, section: str) -> str:
    return next(iter(getattr(app.extensions["credithub.rule_pack"], section)))


def test_push_each_kind_then_read_it(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    records = [
        penalty(),
        {
            "kind": "misconduct",
            "ref": "BL-2026-001",
            "decided_on": "2026-06-01",
            "code": pack_code(app, "misconduct"),
            "project": "海拉尔区第三中学教学楼工程",
            "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
        },
        {
            "kind": "blacklist",
            "ref": "HMD-2026-007",
            "decided_on": "2026-06-02",
            "list": "ggzy-serious",
            "listed_on": "2026-06-02",
            "expires_on": "2029-06-01",
            "basis": "发改法规〔2018〕457号",
            "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
        },
        {
            "kind": "commendation",
            "ref": "HONG-2026-3",
            "decided_on": "2026-01-10",
            "code": pack_code(app, "commendations"),
            "subject": {
                "type": "organization",
                "name": "呼伦贝尔市北疆建筑工程有限公司",
                "uscc": BEIJIANG,
            },
        },
    ]
    resp = push(client, zhujian, *records)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["accepted"], body["rejected"]) == (4, 0)
    assert [r["status"] for r in body["results"]] == ["created"] * 4
    got = client.get(f"/api/v1/records/{body['results'][0]['id']}", headers=zhujian).get_json()
    assert got["status"] == "active"
    assert got["version"] == 1
    assert got["fine_yuan"] == "20000.00"
    assert got["authority"] == {"name": "呼伦贝尔市住房和城乡建设局", "uscc": ZHUJIAN}
    assert got["severity"] in ("minor", "general", "serious")
    assert got["origin"]["version"] == 1
    assert got["subject"]["uscc"] == BEIJIANG
    assert len(got["history"]) == 1
    listing = client.get(f"/api/v1/records?subject={SHUDAO}", headers=zhujian).get_json()
    assert listing["total"] == 2
    assert {i["kind"] for i in listing["items"]} == {"misconduct", "blacklist"}


def test_same_key_is_update_or_unchanged(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    first = push(client, zhujian, penalty()).get_json()["results"][0]
    again = push(client, zhujian, penalty()).get_json()["results"][0]
    assert again == {"index": 0, "status": "unchanged", "id": first["id"], "version": 1}
    corrected = push(client, zhujian, penalty(fine_yuan="30000")).get_json()["results"][0]
    assert corrected["status"] == "updated"
    assert corrected["id"] == first["id"]
    assert corrected["version"] == 2
    record = client.get(f"/api/v1/records/{first['id']}", headers=zhujian).get_json()
    assert record["fine_yuan"] == "30000.00"
    assert [h["version"] for h in record["history"]] == [1, 2]
    assert record["history"][0]["record"]["fine_yuan"] == "20000.00"
    assert count(app, Record) == 1
    assert count(app, RecordChange) == 2  # unchanged wrote nothing


def test_duplicate_keys_in_one_batch_are_one_record(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    body = push(
        client, zhujian, penalty(), penalty(fine_yuan="1"), penalty(fine_yuan="1")
    ).get_json()
    assert [r["status"] for r in body["results"]] == ["created", "updated", "unchanged"]
    assert count(app, Record) == 1
    assert count(app, RecordChange) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decided_on": "2099-01-01"}, "decided_on"),
        ({"fine_yuan": "-5"}, "fine_yuan"),
        ({"categories": ["罚金"]}, "categories"),
        ({"categories": None}, "categories"),
        ({"ref": ""}, "ref"),
        ({"colour": "red"}, "colour"),
        ({"code": "X"}, "code"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"domains": ["railways"]}, "domains"),
        (
            {"subject": {"type": "organization", "name": "个体户", "uscc": "92" + BEIJIANG[2:]}},
            "subject.uscc",
        ),
        (
            {"subject": {"type": "organization", "name": "x", "uscc": "91230500MA1B3N1N2X"}},
            "subject.uscc",
        ),
        ({"subject": {"type": "person", "name": "张三"}}, "subject.id_number"),
        ({"subject": {"name": "x"}}, "subject.type"),
        ({"authority": {"uscc": "11230500001755309X"}}, "authority.uscc"),
    ],
)
def test_bad_items_are_rejected_naming_the_field(
    app: Flask, client: FlaskClient, zhujian: Headers, change: dict[str, Any], field: str
) -> None:
    bad = {k: v for k, v in {**penalty(ref="bad"), **change}.items() if v is not None}
    body = push(client, zhujian, penalty(), bad).get_json()
    assert body["accepted"] == 1
    assert body["rejected"] == 1
    result = body["results"][1]
    assert result["status"] == "rejected"
    assert field in result["errors"], result["errors"]
    assert count(app, Record) == 1


def test_unknown_list_and_misconduct_code(client: FlaskClient, zhujian: Headers) -> None:
    subject = {"type": "organization", "name": "x", "uscc": SHUDAO}
    body = push(
        client,
        zhujian,
        {
            "kind": "blacklist",
            "ref": "1",
            "decided_on": "2026-01-01",
            "list": "no-such-list",
            "subject": subject,
        },
        {
            "kind": "misconduct",
            "ref": "2",
            "decided_on": "2026-01-01",
            "code": "NO-SUCH",
            "subject": subject,
        },
    ).get_json()
    assert "unknown list code" in body["results"][0]["errors"]["list"][0]
    assert "unknown misconduct code" in body["results"][1]["errors"]["code"][0]


def test_atomic_batch_rejects_everything(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    resp = push(client, zhujian, penalty(), penalty(ref="x", decided_on="2099-01-01"), atomic=True)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["accepted"] == 0
    assert "batch" in body["results"][0]["errors"]
    assert "decided_on" in body["results"][1]["errors"]
    assert count(app, Record) == count(app, Subject) == count(app, RecordChange) == 0


def test_batch_limits_and_envelope(client: FlaskClient, zhujian: Headers) -> None:
    too_many = client.post("/api/v1/records", json={"records": [penalty()] * 5001}, headers=zhujian)
    assert too_many.status_code == 422
    assert "records" in too_many.get_json()["errors"]
    assert client.post("/api/v1/records", json={"records": []}, headers=zhujian).status_code == 422
    assert client.post("/api/v1/records", json=[penalty()], headers=zhujian).status_code == 422
    not_object = client.post("/api/v1/records", json={"records": ["x"]}, headers=zhujian).get_json()
    assert not_object["results"][0]["status"] == "rejected"


def test_department_writes_only_its_own(
    app: Flask,
    client: FlaskClient,
    zhujian: Headers,
    caizheng: Headers,
    make_token: Callable[..., Headers],
) -> None:
    created = push(client, zhujian, penalty()).get_json()["results"][0]
    forged = push(client, caizheng, penalty(authority={"uscc": ZHUJIAN})).get_json()["results"][0]
    assert forged["status"] == "rejected"
    assert "authority.uscc" in forged["errors"]
    refused = client.post(
        f"/api/v1/records/{created['id']}/revoke", json={"reason": "x"}, headers=caizheng
    )
    assert refused.status_code == 403
    with app.app_context():
        refusals = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.refused")
        ).all()
    assert len(refusals) == 2
    # The joint office acts for any department, naming the authority.
    admin = make_token("admin")
    as_admin = push(
        client, admin, penalty(ref="A-1", authority={"uscc": CAIZHENG, "name": "财政局"})
    )
    assert as_admin.get_json()["results"][0]["status"] == "created"
    assert push(client, admin, penalty(ref="A-2")).get_json()["results"][0]["errors"][
        "authority.uscc"
    ]
    consumer = make_token("consumer")
    assert push(client, consumer, penalty()).status_code == 403


def test_revoke_keeps_history_and_stops_changes(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rid = push(client, zhujian, penalty()).get_json()["results"][0]["id"]
    assert client.post(f"/api/v1/records/{rid}/revoke", json={}, headers=zhujian).status_code == 422
    resp = client.post(
        f"/api/v1/records/{rid}/revoke", json={"reason": "行政复议撤销原处罚决定"}, headers=zhujian
    )
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "revoked"
    record = client.get(f"/api/v1/records/{rid}", headers=zhujian).get_json()
    assert [(h["version"], h["op"]) for h in record["history"]] == [(1, "upsert"), (2, "revoke")]
    assert record["revoked"]["reason"] == "行政复议撤销原处罚决定"
    again = push(client, zhujian, penalty(fine_yuan="1")).get_json()["results"][0]
    assert again["status"] == "rejected"
    assert "revoked" in again["errors"]["ref"][0]
    assert (
        client.post(
            f"/api/v1/records/{rid}/revoke", json={"reason": "x"}, headers=zhujian
        ).status_code
        == 409
    )
    listing = client.get("/api/v1/records?status=revoked", headers=zhujian).get_json()
    assert listing["total"] == 1
    assert client.get("/api/v1/records?status=active", headers=zhujian).get_json()["total"] == 0


def test_every_change_is_logged_and_audited_in_commit_order(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    first = push(client, zhujian, penalty("1"), penalty("2")).get_json()["results"]
    push(client, zhujian, penalty("1", fine_yuan="1"))
    push(client, zhujian, penalty("2"))  # unchanged: no change, no audit entry
    with app.app_context():
        changes = db.session.execute(
            select(RecordChange.position, RecordChange.version).order_by(RecordChange.position)
        ).all()
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "records.ingest").order_by(AuditEntry.seq)
        ).all()
        audited = [json.loads(e.detail)["changes"] for e in entries]
        assert all(e.actor == "呼伦贝尔市住房和城乡建设局" for e in entries)
    assert [p for p, _ in changes] == [1, 2, 3]
    assert [v for _, v in changes] == [1, 1, 2]
    assert [[(c[0], c[1], c[2]) for c in batch] for batch in audited] == [
        [(first[0]["id"], 1, "created"), (first[1]["id"], 1, "created")],
        [(first[0]["id"], 2, "updated")],
    ]


def test_a_crash_while_committing_leaves_nothing(
    app: Flask, client: FlaskClient, zhujian: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    import credithub.audit.service as audit_service

    def crash(_session: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_service, "seal", crash)
    resp = push(client, zhujian, *[penalty(str(i)) for i in range(50)])
    assert resp.status_code == 500
    monkeypatch.undo()
    assert count(app, Record) == count(app, Subject) == count(app, RecordChange) == 0
    assert push(client, zhujian, penalty("1")).get_json()["results"][0]["status"] == "created"


def test_persons_and_legal_representatives_stay_masked(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    person = penalty("P-1", subject=samples.person_subject())
    with_rep = penalty("P-2", subject=samples.represented())
    body = push(client, zhujian, person, with_rep).get_json()
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    for result in body["results"]:
        text = client.get(f"/api/v1/records/{result['id']}", headers=zhujian).get_data(as_text=True)
        assert PERSON_ID not in text
        assert "110105********002X" in text
    with app.app_context():
        rep_ids = db.session.scalars(select(Record.legal_rep_id).where(Record.ref == "P-2")).all()
        person_id = db.session.scalar(select(Record.subject_id).where(Record.ref == "P-1"))
    assert rep_ids == [person_id]  # the representative is the same person subject


def test_unknown_record_and_bad_filters(client: FlaskClient, zhujian: Headers) -> None:
    assert client.get("/api/v1/records/nope", headers=zhujian).status_code == 404
    assert client.get("/api/v1/records?kind=fine", headers=zhujian).status_code == 422
    assert client.get("/api/v1/records?status=gone", headers=zhujian).status_code == 422
    assert (
        client.post(
            "/api/v1/records/nope/revoke", json={"reason": "x"}, headers=zhujian
        ).status_code
        == 404
    )


def listing(ref: str, list_code: str, subject: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "blacklist",
        "ref": ref,
        "decided_on": "2026-06-02",
        "list": list_code,
        "subject": subject,
        **extra,
    }


def test_a_legal_representative_may_be_a_plain_name(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    by_name = {**samples.represented(), "legal_rep": "王建军"}
    body = push(
        client,
        zhujian,
        penalty("R-1", subject=by_name),
        listing("R-2", "ggzy-serious", by_name),
        listing("R-3", "ggzy-serious", {**by_name, "legal_rep": {"name": "王建军"}}),
    ).get_json()
    assert [r["status"] for r in body["results"]] == ["created"] * 3, body
    # A name alone links no one (it does not tell one person from another): no person subject,
    # and where the list would reach the legal representative the answer says it does not.
    assert count(app, Subject) == 1
    assert "warnings" not in body["results"][0]
    for result in body["results"][1:]:
        [warning] = result["warnings"]
        assert warning.startswith("subject.legal_rep: named without an ID number")
        assert "ggzy-serious" in warning
    for result in body["results"]:
        got = client.get(f"/api/v1/records/{result['id']}", headers=zhujian).get_json()
        rep = {"name": "王建军", "id_type": None, "id_number": None}
        assert got["subject"]["legal_rep"] == rep
        assert got["history"][0]["record"]["subject"]["legal_rep"] == rep
    # The name and the object holding only the name are the same record.
    again = push(
        client, zhujian, penalty("R-1", subject={**by_name, "legal_rep": {"name": "王建军"}})
    )
    assert again.get_json()["results"][0]["status"] == "unchanged"


@pytest.mark.parametrize(
    ("legal_rep", "field"),
    [
        ("", "subject.legal_rep.name"),
        ("王" * 101, "subject.legal_rep.name"),
        (7, "subject.legal_rep"),
    ],
)
def test_a_bad_legal_representative_is_refused(
    client: FlaskClient, zhujian: Headers, legal_rep: Any, field: str
) -> None:
    subject = {**samples.represented(), "legal_rep": legal_rep}
    result = push(client, zhujian, penalty(subject=subject)).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert field in result["errors"], result["errors"]


def test_a_list_takes_only_its_subject_types(
    app: Flask, client: FlaskClient, zhujian: Headers, make_token: Callable[..., Headers]
) -> None:
    org = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}
    person = samples.person_subject()
    body = push(
        client,
        zhujian,
        listing("L-1", "expert-disqualified", org),  # persons only
        listing("L-2", "agency-banned", person),  # organizations only
        listing("L-3", "expert-disqualified", person),
        listing("L-4", "ggzy-serious", person),
    ).get_json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected", "created", "created"]
    [refused] = body["results"][0]["errors"]["subject.type"]
    assert "expert-disqualified" in refused
    assert "takes only persons, not organizations" in refused
    [refused] = body["results"][1]["errors"]["subject.type"]
    assert "agency-banned" in refused
    assert "takes only organizations, not persons" in refused
    assert count(app, Record) == 2
    # A peer's listing is its origin hub's decision: taken as sent, with a warning.
    peer = make_token("peer", hub="city-x")
    origin = {"hub": "city-x", "id": "x-1", "version": 1}
    sent = listing("L-5", "expert-disqualified", org, origin=origin)
    sent["authority"] = {"name": "某市住建局", "uscc": PEER_ZHUJIAN}
    [result] = push(client, peer, sent).get_json()["results"]
    assert result["status"] == "created"
    assert any("subject.type: list expert-disqualified" in w for w in result["warnings"])
