"""Subjects: one identity per real subject, found from any identifier, personal data protected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.db import db
from credithub.entities.models import Subject
from credithub.entities.service import (
    ensure_subjects,
    ensure_subjects_collect,
    find_subjects,
    parse_subject,
)
from credithub.errors import Conflict, Invalid
from credithub.privacy import personal_data

ORG = {
    "type": "organization",
    "name": "呼伦贝尔市北疆建筑工程有限公司",
    "uscc": "91230500MA1B3N1N2M",
}
PERSON = {
    "type": "person",
    "name": "张建国",
    "id_type": "身份证",
    "id_number": "11010519491231002X",
}


def ensure(app: Flask, *subjects: dict[str, Any], when: date = date(2026, 1, 1)) -> list[str]:
    with app.app_context(), db.transaction() as session:
        refs = [parse_subject(s)[0] for s in subjects]
        return ensure_subjects(session, refs, [when] * len(refs))


def invalid_fields(app: Flask, data: dict[str, Any]) -> dict[str, list[str]]:
    with app.app_context(), pytest.raises(Invalid) as info:
        parse_subject(data)
    return info.value.errors


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({**ORG, "uscc": "92230500MA1B3N1N2M"}, "subject.uscc", "check"),
        ({**ORG, "uscc": "91230500MA1B3N1N2X"}, "subject.uscc", "check"),
        ({"type": "organization", "name": "个体户", "uscc": "92" + "0" * 16}, "subject.uscc", ""),
        ({**ORG, "type": "person"}, "subject.uscc", "natural person"),
        ({**ORG, "type": "individual_business"}, "subject.uscc", "not an individual business"),
        ({"type": "person", "name": "李某"}, "subject.id_number", "required"),
        ({**PERSON, "id_number": "110105194912310021"}, "subject.id_number", "check"),
        ({**PERSON, "id_type": "驾照"}, "subject.id_type", "unknown ID type"),
        ({"type": "organization", "name": "x"}, "subject.uscc", "required"),
        ({**ORG, "type": "company"}, "subject.type", "one of"),
        ({**ORG, "name": " "}, "subject.name", "required"),
        ({**ORG, "legacy_codes": {"org_code": "12345678-9"}}, "subject.legacy_codes.org_code", ""),
        ({**ORG, "legacy_codes": {"vat": "123456"}}, "subject.legacy_codes.vat", "unknown scheme"),
    ],
)
def test_bad_subjects_name_the_field(
    app: Flask, data: dict[str, Any], field: str, says: str
) -> None:
    errors = invalid_fields(app, data)
    assert field in errors, errors
    assert says in " ".join(errors[field])


def test_individual_business_code_declared_as_organization_is_refused(app: Flask) -> None:
    from credithub.entities.identifiers import uscc_check_char

    body = "92230500MA1B3N1N2"[:8] + "MA1B3N1N2"
    code = body + uscc_check_char(body)
    errors = invalid_fields(app, {"type": "organization", "name": "个体户", "uscc": code})
    assert "individual business" in errors["subject.uscc"][0]


def test_id_numbers_never_appear_in_errors(app: Flask) -> None:
    errors = invalid_fields(app, {**PERSON, "id_number": "110105194912310021"})
    assert "110105194912310021" not in str(errors)


def test_full_width_and_spaces_are_normalised(app: Flask) -> None:
    a = ensure(app, ORG)
    b = ensure(app, {**ORG, "uscc": "９１２３ ０５００ｍａ１Ｂ３Ｎ１Ｎ２Ｍ"})
    assert a == b


def test_allow_listed_code_is_accepted_with_warning(app: Flask) -> None:
    with app.app_context():
        ref, warnings = parse_subject(
            {"type": "organization", "name": "福州", "uscc": "91350100M0001TGQXM"}
        )
    assert ref.uscc_exception
    assert any("allow-list" in w for w in warnings)


def test_configured_exception_is_accepted(app_factory: Callable[..., Flask]) -> None:
    from credithub.entities.identifiers import uscc_check_char

    body = "91350100M0001TGQX"
    wrong = body + ("0" if uscc_check_char(body) != "0" else "1")
    app = app_factory(identifiers={"uscc_exceptions": [wrong]})
    with app.app_context():
        ref, _ = parse_subject({"type": "organization", "name": "x", "uscc": wrong})
    assert ref.uscc == wrong


def test_same_subject_from_any_identifier(app: Flask) -> None:
    [org_id] = ensure(app, ORG)
    # Positions 9-17 of a USCC are the old 组织机构代码: a legacy feed finds the same subject.
    legacy_only = {
        "type": "organization",
        "name": ORG["name"],
        "legacy_codes": {"org_code": "MA1B3N1N-2"},
    }
    assert ensure(app, legacy_only) == [org_id]
    with app.app_context():
        assert db.session.scalar(select(Subject.id).where(Subject.uscc == ORG["uscc"])) == org_id


def test_legacy_subject_gains_its_uscc_later(app: Flask) -> None:
    [first] = ensure(
        app,
        {"type": "organization", "name": "x", "legacy_codes": {"business_reg": "150700000012345"}},
    )
    [second] = ensure(app, {**ORG, "legacy_codes": {"business_reg": "150700000012345"}})
    assert first == second
    with app.app_context():
        assert db.session.get(Subject, first).uscc == ORG["uscc"]  # type: ignore[union-attr]


def test_identifiers_of_two_subjects_conflict(app: Flask) -> None:
    ensure(
        app,
        ORG,
        {"type": "organization", "name": "乙", "legacy_codes": {"business_reg": "150700000099999"}},
    )
    with app.app_context():
        refs = [parse_subject({**ORG, "legacy_codes": {"business_reg": "150700000099999"}})[0]]
        with pytest.raises(Conflict):
            ensure_subjects(db.session, refs, [date(2026, 1, 1)])


def test_a_batch_naming_one_subject_twice_creates_it_once(app: Flask) -> None:
    ids = ensure(app, ORG, ORG, PERSON, PERSON)
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    with app.app_context():
        assert len(db.session.scalars(select(Subject)).all()) == 2


def test_a_new_subject_takes_the_id_made_for_its_first_ref(app: Flask) -> None:
    # An import makes each record's would-be subject id while checking it, beside the writer;
    # a subject the hub knows keeps its id, one named twice takes its first ref's.
    [known] = ensure(app, PERSON)
    with app.app_context(), db.transaction() as session:
        refs = [parse_subject(s)[0] for s in (ORG, PERSON, ORG)]
        made = ["0" * 31 + "a", "0" * 31 + "b", "0" * 31 + "c"]
        ids = ensure_subjects_collect(session, refs, [date(2026, 1, 1)] * 3, new_ids=made)
    assert ids == [made[0], known, made[0]]
    with app.app_context():
        assert db.session.get(Subject, made[2]) is None
        org = db.session.get(Subject, made[0])
        assert org is not None
        assert org.uscc == ORG["uscc"]


def test_the_subjects_renamed_are_told(app: Flask) -> None:
    [org] = ensure(app, ORG)
    with app.app_context(), db.transaction() as session:
        renamed: set[str] = set()
        later = parse_subject({**ORG, "name": "呼伦贝尔市北疆建设集团有限公司"})[0]
        earlier = parse_subject(PERSON)[0]
        when = [date(2099, 1, 1), date(2000, 1, 1)]
        ensure_subjects_collect(session, [later, earlier], when, renamed=renamed)
    assert renamed == {org}


def test_person_id_number_is_encrypted_hashed_and_masked(app: Flask) -> None:
    [pid] = ensure(app, PERSON)
    with app.app_context():
        person = db.session.get(Subject, pid)
        assert person is not None
        raw = " ".join(str(v) for v in vars(person).values())
        assert "11010519491231002X" not in raw
        assert b"11010519491231002X" not in (person.id_cipher or b"")
        assert person.id_masked == "110105********002X"
        assert personal_data().decrypt(person.id_cipher or b"", "id_card") == "11010519491231002X"
        # Lower-case x and spaces find the same person.
        ref = parse_subject({**PERSON, "id_number": "110105 19491231002x"})[0]
        assert find_subjects(db.session, [ref])[0] is not None


def test_names_follow_the_dates_of_the_records(app: Flask) -> None:
    [oid] = ensure(app, ORG, when=date(2024, 1, 1))
    ensure(app, {**ORG, "name": "北疆建设集团有限公司"}, when=date(2025, 6, 1))
    ensure(app, {**ORG, "name": "呼伦贝尔北疆建筑公司(旧称)"}, when=date(2020, 1, 1))
    with app.app_context():
        subject = db.session.get(Subject, oid)
        assert subject is not None
        assert subject.name == "北疆建设集团有限公司"
        assert len(subject.names) == 3


def test_entity_api_profile_and_search(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict]
) -> None:
    ensure(app, ORG, when=date(2024, 1, 1))
    ensure(app, {**ORG, "name": "北疆建设集团有限公司"}, when=date(2025, 6, 1))
    ensure(app, PERSON)
    auth = make_token("consumer")
    profile = client.get(f"/api/v1/entities/{ORG['uscc'].lower()}", headers=auth)
    assert profile.status_code == 200
    body = profile.get_json()
    assert body["uscc"] == ORG["uscc"]
    assert body["name"] == "北疆建设集团有限公司"
    assert {n["name"] for n in body["names"]} == {ORG["name"], "北疆建设集团有限公司"}
    assert {"scheme": "org_code", "value": "MA1B3N1N2"} in body["identifiers"]
    # Found by a former name and by a legacy code.
    by_old = client.get("/api/v1/entities?q=北疆建筑工程", headers=auth).get_json()
    assert [i["uscc"] for i in by_old["items"]] == [ORG["uscc"]]
    by_code = client.get("/api/v1/entities?q=MA1B3N1N2", headers=auth).get_json()
    assert by_code["total"] == 1
    person = client.get("/api/v1/entities?q=张建国", headers=auth).get_json()["items"][0]
    assert person["id_number"] == "110105********002X"


def test_entity_api_errors(client: FlaskClient, make_token: Callable[..., dict]) -> None:
    auth = make_token("consumer")
    unknown = client.get("/api/v1/entities/91512081MA62K0260E", headers=auth)
    assert unknown.status_code == 404
    bad = client.get("/api/v1/entities/91512081MA62K0260X", headers=auth)
    assert bad.status_code == 422
    assert "uscc" in bad.get_json()["errors"]
    assert client.get("/api/v1/entities?q=x&page_size=501", headers=auth).status_code == 422


def test_resolve_person_by_post(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict]
) -> None:
    auth = make_token("consumer")
    before = client.post("/api/v1/entities/resolve", json=PERSON, headers=auth).get_json()
    assert before == {"known": False, "entity": None, "warnings": []}
    ensure(app, PERSON)
    after = client.post("/api/v1/entities/resolve", json=PERSON, headers=auth)
    assert after.get_json()["known"] is True
    assert "11010519491231002X" not in after.get_data(as_text=True)
    bad = client.post(
        "/api/v1/entities/resolve", json={**PERSON, "id_number": "110105194912310021"}, headers=auth
    )
    assert bad.status_code == 422
    assert "subject.id_number" in bad.get_json()["errors"]
