"""The facts a standing is computed from, read as plain rows (JSON and dates parsed by the
reader itself), are what the ORM's reading of the same records gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.db import as_date, date_as_read, db, table_of
from credithub.entities.models import SubjectName
from credithub.records.models import Record
from credithub.standing.service import facts_for
from credithub.standing.values import RecordFacts
from tests.records.samples import ZHUJIAN, penalty, represented


def _facts_by_orm(record: Record) -> RecordFacts:
    content: dict[str, Any] = record.content
    fine = content.get("fine_yuan")
    return RecordFacts(
        id=record.id, kind=record.kind, ref=record.ref, authority_uscc=record.authority_uscc,
        authority_name=record.authority_name, decided_on=record.decided_on,
        starts_on=record.starts_on, ends_on=record.ends_on, code=record.code,
        categories=tuple(content.get("categories") or ()),
        fine_yuan=None if fine is None else Decimal(fine), domains=tuple(record.domains),
        severity=record.severity, status=record.status, revoked_at=record.revoked_at,
        basis=content.get("basis") or "", legal_rep_id=record.legal_rep_id,
    )  # fmt: skip


def test_facts_read_as_rows_equal_the_orm_reading(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    headers = make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")
    records = [
        penalty("呼住建罚〔2026〕1号"),
        penalty("呼住建罚〔2026〕2号", decided_on="2025-12-31", categories=["警告"],
                valid_until="2027-01-02", subject=represented()),
        # No categories, no fine, no basis: a listing.
        {"kind": "blacklist", "ref": "呼住建黑〔2026〕1号", "decided_on": "2026-06-02",
         "list": "ggzy-serious", "subject": represented()},
    ]  # fmt: skip
    del records[1]["fine_yuan"]
    resp = client.post("/api/v1/records", json={"records": records}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 3, resp.get_json()
    with app.app_context():
        stored = db.session.scalars(select(Record)).all()
        assert len(stored) == 3
        subjects = {r.subject_id for r in stored}
        read = facts_for(db.session, subjects)
        expected = {
            sid: [_facts_by_orm(r) for r in stored if r.subject_id == sid] for sid in subjects
        }
        assert {sid: sorted(f, key=lambda f: f.id) for sid, f in read.items()} == {
            sid: sorted(f, key=lambda f: f.id) for sid, f in expected.items()
        }
        assert any(f.ends_on is not None for fs in read.values() for f in fs)


def test_a_date_read_as_the_driver_gives_it_is_the_date_stored(app: Flask) -> None:
    names = table_of(SubjectName)
    with app.app_context(), db.transaction() as session:
        session.execute(
            table_of(SubjectName).metadata.tables["subjects"].insert(),
            [{"id": "s", "type": "organization", "name": "北疆", "uscc_exception": False}],
        )
        session.execute(
            names.insert(),
            [{"subject_id": "s", "name": "北疆", "first_seen": date(2024, 2, 29),
              "last_seen": date(2026, 12, 31)}],
        )  # fmt: skip
        first, last = session.execute(
            select(date_as_read(names.c.first_seen), date_as_read(names.c.last_seen))
        ).one()
        assert (as_date(first), as_date(last)) == (date(2024, 2, 29), date(2026, 12, 31))
