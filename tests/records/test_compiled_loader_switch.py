"""`[ingest] compiled_loader` is a speed switch only: pushes answer and store the same with the
record schema's compiled path and with the schema alone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from credithub import create_app
from credithub.clients.service import create_client
from credithub.db import db
from credithub.records import loaders
from credithub.records.models import Record
from tests.conftest import empty_database
from tests.records.samples import ZHUJIAN, penalty, person_subject, represented

_ID = re.compile(r"\b[0-9a-f]{32}\b")
PUSHES: list[list[dict[str, Any]]] = [
    [
        penalty(),
        penalty(ref="b", subject=represented()),
        penalty(ref="c", subject=person_subject()),
        penalty(ref="d", decided_on="20260502"),  # a spelling only the schema reads
    ],
    [
        penalty(),  # unchanged
        penalty(ref="b", subject=represented(), fine_yuan="30000.00"),  # updated
        penalty(ref="e", decided_on="2026-02-30"),  # rejected
        penalty(ref="f", colour="red"),  # rejected: unknown field
    ],
]


def _without_ids(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_ids(v, ids) for v in value]
    if isinstance(value, str):  # ids (32 hex digits) by order of appearance; the rest as is
        return _ID.sub(lambda m: ids.setdefault(m[0], f"id{len(ids)}"), value)
    return value


def _run(database_url: str, instance: Path, compiled: bool) -> tuple[Any, Any]:
    app = create_app(
        {
            "instance_path": instance,
            "testing": True,
            "database": {"url": database_url},
            "logging": {"level": "WARNING"},
            "ingest": {"compiled_loader": compiled},
        }
    )
    assert (loaders._FAST is not None) is compiled
    with app.app_context():
        _, token = create_client(db.session, "zhujian", "department", uscc=ZHUJIAN)
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    answers = []
    for records in PUSHES:
        resp = client.post("/api/v1/records", json={"records": records}, headers=headers)
        answers.append((resp.status_code, resp.data.decode()))
    with app.app_context():
        rows = [
            {
                c: getattr(r, c)
                for c in ("kind", "ref", "version", "status", "decided_on", "content", "raw")
            }
            for r in db.session.scalars(select(Record).order_by(Record.ref))
        ]
    with app.app_context():
        db.engine.dispose()
    ids: dict[str, str] = {}
    return _without_ids(answers, ids), _without_ids(rows, ids)


def test_pushes_answer_and_store_the_same_either_way(
    database_template: str, tmp_path: Path
) -> None:
    got = {}
    for compiled in (True, False):
        url = empty_database(database_template, tmp_path / f"{compiled}.db")
        instance = tmp_path / f"instance-{compiled}"
        instance.mkdir()
        got[compiled] = _run(url, instance, compiled)
    assert got[True] == got[False]
    answers = [json.loads(body) for _, body in got[True][0]]
    statuses = [[r["status"] for r in answer["results"]] for answer in answers]
    assert statuses == [
        ["created"] * 4,
        ["unchanged", "updated", "rejected", "rejected"],
    ]


@pytest.fixture(autouse=True)
def _compiled_again() -> Any:
    yield
    loaders.use_compiled_loader(True)
