"""Persons named by the federation hash: only peer hubs name a person by `id_hash` and
`id_masked`; such a person and the same person sent by a department with the number are one
subject; a check by ID number finds a person this hub knows only by the hash; `credithub
init-db` makes the hash for the persons held before it existed, and again when the key changed;
the matching key is configured (base64 or hex) or generated into the instance folder."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from connectors.creditchina.standin import StandIn
from credithub.config import ConfigError, ensure_instance_secrets, load_settings
from credithub.db import db
from credithub.entities.models import Subject
from credithub.entities.service import fill_federation_hashes
from credithub.privacy import personal_data
from credithub.sync import service
from tests.records.samples import (
    BEIJIANG,
    PEER_ZHUJIAN,
    PERSON_ID,
    ZHUJIAN,
    penalty,
    person_subject,
)
from tests.signing import signed_all

MASKED = "110105********002X"
Headers = dict[str, str]


def fed_hash(app: Flask, number: str = PERSON_ID) -> str:
    with app.app_context():
        return personal_data().federation_hash("id_card", number)


def hashed_person(app: Flask) -> dict[str, Any]:
    """张建国 as a peer hub sends him: masked number and federation hash."""
    return {
        "type": "person", "name": "张建国", "id_type": "id_card", "id_masked": MASKED,
        "id_hash": fed_hash(app),
    }  # fmt: skip


def listing(subject: dict[str, Any], ref: str = "呼住建黑〔2026〕31号") -> dict[str, Any]:
    return {
        "kind": "blacklist", "ref": ref, "decided_on": "2026-06-02", "list": "ggzy-serious",
        "listed_on": "2026-06-02", "subject": subject,
        "authority": {"name": "呼伦贝尔市住房和城乡建设局", "uscc": ZHUJIAN},
    }  # fmt: skip


def from_peer(record: dict[str, Any], hub: str, n: int = 1) -> dict[str, Any]:
    """The record as a peer sends it: decided by a department of its own city."""
    authority = {"name": "另一城市住房和城乡建设局", "uscc": PEER_ZHUJIAN}
    return {**record, "authority": authority, "origin": {"hub": hub, "id": f"r{n}", "version": 1}}


def push(client: FlaskClient, headers: Headers, *records: Any, atomic: bool = False) -> Any:
    url = "/api/v1/records" + ("?atomic=true" if atomic else "")
    return client.post(url, json={"records": signed_all(records)}, headers=headers)


def check_person(client: FlaskClient, headers: Headers) -> dict[str, Any]:
    body = {"domain": "construction", "subjects": [{"id_type": "身份证", "id_number": PERSON_ID}]}
    resp = client.post("/api/v1/check", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answer: dict[str, Any] = resp.get_json()["results"][0]
    return answer


def persons(app: Flask) -> list[Subject]:
    with app.app_context():
        found = list(db.session.scalars(select(Subject).where(Subject.type == "person")))
        db.session.expunge_all()
        return found


# ---------------------------------------------------------------------------------------------
# Who may name a person by hash


def test_a_department_naming_a_person_by_hash_is_refused_naming_the_field(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    person = hashed_person(app)
    rep = {k: v for k, v in person.items() if k != "type"}
    as_rep = penalty("P-2", subject={"type": "organization", "name": "北疆", "uscc": BEIJIANG,
                                     "legal_rep": rep})  # fmt: skip
    resp = push(client, dept, listing(person), as_rep)
    assert resp.status_code == 200
    first, second = resp.get_json()["results"]
    assert first["status"] == second["status"] == "rejected"
    assert set(first["errors"]) == {"subject.id_hash", "subject.id_masked"}
    assert "send id_number" in first["errors"]["subject.id_hash"][0]
    assert set(second["errors"]) == {"subject.legal_rep.id_hash", "subject.legal_rep.id_masked"}
    resp = push(client, dept, listing(person), atomic=True)
    assert resp.status_code == 422
    assert "subject.id_hash" in resp.get_json()["results"][0]["errors"]
    assert persons(app) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_masked": PERSON_ID}, "subject.id_masked"),  # a number in clear is no masked one
        ({"id_masked": "11010519********"}, "subject.id_masked"),
        ({"id_number": PERSON_ID}, "subject.id_hash"),  # the number or the hash, not both
        ({"id_hash": "A" * 64}, "subject.id_hash"),
        ({"id_hash": "ab" * 16}, "subject.id_hash"),
        ({"id_masked": None}, "subject.id_masked"),
        ({"id_type": "驾驶证"}, "subject.id_type"),
        ({"type": "organization"}, "subject.id_hash"),
    ],
)
def test_a_peer_names_a_person_by_a_well_formed_hash_and_masked_number(
    app: Flask,
    client: FlaskClient,
    make_token: Callable[..., Headers],
    change: dict[str, Any],
    field: str,
) -> None:
    peer = make_token("peer", hub="city-x")
    subject = {k: v for k, v in {**hashed_person(app), **change}.items() if v is not None}
    [result] = push(client, peer, from_peer(listing(subject), "city-x")).get_json()["results"]
    assert result["status"] == "rejected"
    assert field in result["errors"], result["errors"]
    assert persons(app) == []


# ---------------------------------------------------------------------------------------------
# One person, however named


def test_a_person_from_a_peer_and_from_a_department_is_one_subject_found_by_number(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer, dept = make_token("peer", hub="city-x"), make_token("department", uscc=ZHUJIAN)
    consumer = make_token("consumer")
    assert check_person(client, consumer)["known"] is False
    [made] = push(client, peer, from_peer(listing(hashed_person(app)), "city-x")).get_json()[
        "results"
    ]
    assert made["status"] == "created", made
    [held] = persons(app)
    assert (held.fed_hash, held.id_masked, held.id_type) == (fed_hash(app), MASKED, "id_card")
    assert held.id_hash is held.id_cipher is None  # no number here

    # Found by its number, through the check's own query (not the general resolution).
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = check_person(client, consumer)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (answer["known"], answer["verdict"]) == (True, "barred")
    assert answer["subject"]["id_number"] == MASKED
    assert not [s for s in statements if "subject_identifiers" in s]

    # The department sends the same person with the number: the same subject, which now holds
    # the number (encrypted) and this hub's own hash beside the federation hash.
    own = penalty("P-9", subject=person_subject())
    [joined] = push(client, dept, own).get_json()["results"]
    assert joined["status"] == "created", joined
    [person] = persons(app)
    assert person.id == held.id
    assert person.fed_hash == fed_hash(app)
    assert person.id_hash is not None
    with app.app_context():
        assert personal_data().decrypt(person.id_cipher or b"", "id_card") == PERSON_ID
    items = client.get("/api/v1/records?page_size=50", headers=make_token("admin")).get_json()
    assert {r["subject"]["id"] for r in items["items"]} == {held.id}
    # And a peer's later record of him, by hash, still names that subject.
    again = from_peer(listing(hashed_person(app), "呼住建黑〔2026〕32号"), "city-x", 2)
    assert push(client, peer, again).get_json()["results"][0]["status"] == "created"
    assert [p.id for p in persons(app)] == [held.id]


def test_a_peer_batch_naming_a_person_by_hash_then_by_number_makes_one_subject_with_it(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer", hub="city-x")
    first = from_peer(listing(hashed_person(app)), "city-x", 1)
    second = from_peer(listing(person_subject(), "呼住建黑〔2026〕33号"), "city-x", 2)
    results = push(client, peer, first, second).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    [person] = persons(app)
    assert person.fed_hash == fed_hash(app)
    assert person.id_cipher is not None  # the number the second record brought


# ---------------------------------------------------------------------------------------------
# The key, and the hashes of persons held before


def test_init_db_makes_the_hash_for_persons_held_before_and_again_for_a_new_key(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., Headers],
    run_cli: Callable[..., Any],
) -> None:
    app = app_factory()
    dept = make_token("department", uscc=ZHUJIAN)
    other = "110105198001010016"
    other_subject = {**person_subject(), "name": "李四", "id_number": other}
    push(app.test_client(), dept, penalty("P-1", subject=person_subject()))
    push(app.test_client(), dept, penalty("P-2", subject=other_subject))
    with app.app_context(), db.transaction() as session:
        session.execute(update(Subject).values(fed_hash=None))  # as held before migration 0006
    out = run_cli("init-db")
    assert out.exit_code == 0, out.output
    assert "federation hash made for 2 person(s)" in out.output
    assert {p.fed_hash for p in persons(app)} == {fed_hash(app), fed_hash(app, other)}
    again = run_cli("init-db")
    assert "federation hash" not in again.output  # nothing to do

    key = base64.b64encode(os.urandom(32)).decode()
    out = run_cli("init-db", env={"CREDITHUB_FEDERATION_MATCHING_KEY": key})
    assert "federation hash made for 2 person(s)" in out.output
    rekeyed = app_factory(federation={"matching_key": key})
    assert {p.fed_hash for p in persons(rekeyed)} == {fed_hash(rekeyed), fed_hash(rekeyed, other)}
    assert fed_hash(rekeyed) != fed_hash(app)
    with rekeyed.app_context(), db.transaction() as session:
        assert fill_federation_hashes(session) == 0


def test_the_matching_key_is_base64_or_hex_of_32_bytes_or_generated(tmp_path: Path) -> None:
    raw = os.urandom(32)
    for text in (raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode()):
        settings = load_settings(environ={"CREDITHUB_FEDERATION_MATCHING_KEY": text})
        assert settings.federation.matching_key == text
    for bad in ("c2hvcnQ=", "zz" * 32, "not base64!"):
        with pytest.raises(ConfigError, match=r"federation\.matching_key"):
            load_settings(environ={"CREDITHUB_FEDERATION_MATCHING_KEY": bad})
    first = load_settings(environ={"CREDITHUB_INSTANCE": str(tmp_path)})
    ensure_instance_secrets(first)
    second = load_settings(environ={"CREDITHUB_INSTANCE": str(tmp_path)})
    ensure_instance_secrets(second)
    assert first.federation.matching_key == second.federation.matching_key
    assert len(base64.b64decode(first.federation.matching_key)) == 32
    assert first.federation.matching_key != first.security.lookup_key
    assert "matching_key" in (tmp_path / "secrets.toml").read_text()


def test_hubs_with_the_same_key_make_the_same_hash_and_others_another(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    key = os.urandom(32)
    one = app_factory(federation={"matching_key": key.hex()})
    two = app_factory(
        instance_path=tmp_path / "elsewhere",
        federation={"matching_key": base64.b64encode(key).decode()},
    )
    alone = app_factory(instance_path=tmp_path / "alone")
    assert fed_hash(one) == fed_hash(two) != fed_hash(alone)
    with one.app_context():
        assert personal_data().lookup_hash("id_card", PERSON_ID) != fed_hash(one)


# ---------------------------------------------------------------------------------------------
# Where the number still leaves: the national 双公示 exchange


def test_the_national_exchange_gets_our_persons_numbers_and_not_those_of_peers(
    app_factory: Callable[..., Flask], national: StandIn, make_token: Callable[..., Headers]
) -> None:
    hub = app_factory(connectors=[{
        "name": "national", "type": "creditchina", "url": national.url, "app_key": "hub-key",
        "app_secret": "hub-secret", "backoff_seconds": 0.01, "pull": False}])  # fmt: skip
    client = hub.test_client()
    dept, peer = make_token("department", uscc=ZHUJIAN), make_token("peer", hub="city-x")
    other = {**hashed_person(hub), "name": "李四", "id_masked": "110105********0016",
             "id_hash": fed_hash(hub, "110105198001010016")}  # fmt: skip
    theirs = from_peer(penalty("X-1", subject=other, authority={"name": "x", "uscc": ZHUJIAN}),
                       "city-x")  # fmt: skip
    assert push(client, peer, theirs).get_json()["accepted"] == 1
    assert push(client, dept, penalty("P-1", subject=person_subject())).get_json()["accepted"] == 1
    with hub.app_context():
        [result] = service.run(["national"])
    assert result.ok, result.errors
    # The peer's is skipped with its reason (it has no number to send), not dead-lettered.
    assert (result.pushed, result.skipped, result.dead) == (1, 1, 0)
    [row] = national.received  # the origin hub reports the peer's record
    assert row["CF_XDR_ZJHM"] == PERSON_ID
    assert row["CF_WSH"] == "P-1"
