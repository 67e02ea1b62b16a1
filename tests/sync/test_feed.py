"""What a feed item carries: the record as stored at that version, with the subject's identity
as hubs exchange it (codes, legacy codes; a person, subject or representative, as the masked
ID number and the federation hash), and nothing that stays at this hub: no ID number in clear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from credithub.privacy import personal_data
from tests.records import samples
from tests.records.samples import BEIJIANG, PEER_ZHUJIAN, PERSON_ID, SHUDAO, ZHUJIAN, penalty
from tests.signing import signed_all


def feed(client: FlaskClient, peer: dict[str, str], after: int = 0) -> dict[str, Any]:
    resp = client.get(f"/api/v1/feed?after={after}&limit=1000", headers=peer)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = resp.get_json()
    return body


def test_items_carry_full_identity_and_the_stored_version(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    peer = make_token("peer", hub="province")
    person = penalty("P-1", subject=samples.person_subject())
    with_rep = penalty("P-2", subject=samples.represented())
    legacy = penalty(
        "P-3",
        subject={
            "type": "organization",
            "name": "蜀道",
            "uscc": SHUDAO,
            "legacy_codes": {"business_reg": "150700000012345"},
        },
    )
    body = {"records": [person, with_rep, legacy]}
    assert client.post("/api/v1/records", json=body, headers=dept).status_code == 200
    corrected = {**legacy, "content": "罚款人民币叁万元"}
    assert (
        client.post("/api/v1/records", json={"records": [corrected]}, headers=dept).status_code
        == 200
    )

    answer = client.get("/api/v1/feed?after=0&limit=1000", headers=peer)
    assert PERSON_ID.encode() not in answer.get_data()  # nor in any other spelling below
    page = feed(client, peer)
    items = page["items"]
    assert [i["cursor"] for i in items] == ["1", "2", "3", "4"]
    assert page["next"] == "4"
    assert page["has_more"] is False
    by_ref = {}
    for item in items:
        record = item["record"]
        assert item["op"] == "upsert"
        assert not {"id", "version", "created_at", "updated_at", "history", "raw"} & set(record)
        assert None not in record.values()
        assert record["origin"]["hub"]
        by_ref.setdefault(record["ref"], []).append(record)
    with app.app_context():
        fed_hash = personal_data().federation_hash("id_card", PERSON_ID)
    person = {
        "type": "person",
        "name": "张建国",
        "id_type": "id_card",
        "id_masked": "110105********002X",
        "id_hash": fed_hash,
    }
    assert by_ref["P-1"][0]["subject"] == person
    rep = by_ref["P-2"][0]["subject"]
    assert rep["uscc"] == BEIJIANG
    assert rep["legal_rep"] == {k: v for k, v in person.items() if k != "type"}
    first, second = by_ref["P-3"]  # version 1 from its snapshot, version 2 from the record
    for version, record in ((1, first), (2, second)):
        assert record["origin"]["version"] == version
        assert record["subject"]["uscc"] == SHUDAO
        assert record["subject"]["legacy_codes"] == {"business_reg": "150700000012345"}
        assert record["status"] == "active"
    assert first["content"] == "罚款人民币贰万元"
    assert second["content"] == "罚款人民币叁万元"


def test_pages_follow_the_cursor_and_skip_what_came_from_the_reader(
    client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    records = [penalty(f"R-{i}") for i in range(5)]
    assert (
        client.post("/api/v1/records", json={"records": records}, headers=dept).status_code == 200
    )
    peer = make_token("peer", hub="province")
    first = client.get("/api/v1/feed?after=0&limit=2", headers=peer).get_json()
    assert [i["cursor"] for i in first["items"]] == ["1", "2"]
    assert first["has_more"] is True
    rest = feed(client, peer, int(first["next"]))
    assert [i["cursor"] for i in rest["items"]] == ["3", "4", "5"]
    # A hub never receives back what it created: what the province sent is not in its feed.
    theirs = penalty("R-9") | {
        "authority": {"name": "省住建厅", "uscc": PEER_ZHUJIAN},
        "origin": {"hub": "province", "id": "p-9", "version": 1},
    }
    resp = client.post("/api/v1/records", json={"records": signed_all([theirs])}, headers=peer)
    assert resp.get_json()["results"][0]["status"] == "created", resp.get_data(as_text=True)
    assert [i["cursor"] for i in feed(client, peer)["items"]] == ["1", "2", "3", "4", "5"]
    other = make_token("peer", hub="city-b")
    assert [i["cursor"] for i in feed(client, other)["items"]] == ["1", "2", "3", "4", "5", "6"]
