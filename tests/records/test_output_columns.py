"""A record's output is made from `OUTPUT_COLUMNS` alone: the feed reads no other column of a
record, so what it serves (and signs) is what the API would show of the whole row."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.db import db
from credithub.records.models import Record
from credithub.records.read import OUTPUT_COLUMNS, record_row, subject_summaries, to_output
from tests.records import samples
from tests.records.samples import SHUDAO, ZHUJIAN, penalty, serious_listing


def test_outputs_need_no_column_beyond_output_columns(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    records = [
        penalty("O-1", subject=samples.person_subject()),
        penalty("O-2", subject=samples.represented()),
        penalty("O-3", subject={"type": "organization", "name": "蜀道", "uscc": SHUDAO}),
        serious_listing(),
    ]
    answer = client.post("/api/v1/records", json={"records": records}, headers=dept)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    revoked = answer.get_json()["results"][2]["id"]
    assert (
        client.post(
            f"/api/v1/records/{revoked}/revoke", json={"reason": "行政复议撤销"}, headers=dept
        ).status_code
        == 200
    )

    with app.app_context():
        rows = [record_row(r) for r in db.session.scalars(select(Record))]
        ids = {r["subject_id"] for r in rows} | {
            r["legal_rep_id"] for r in rows if r["legal_rep_id"]
        }
        subjects = subject_summaries(db.session, ids)
    assert len(rows) == 4
    assert any(r["legal_rep_id"] for r in rows)
    assert any(r["revoked_at"] for r in rows)
    for row in rows:
        narrow = {key: row[key] for key in OUTPUT_COLUMNS}
        for as_stored in (True, False):
            assert to_output(narrow, subjects, as_stored=as_stored) == to_output(
                row, subjects, as_stored=as_stored
            )
