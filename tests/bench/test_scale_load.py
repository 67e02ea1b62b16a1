"""The scale bench's loader (bench/scale_load.py) stores what the hub itself stores: its first
period through the hub's ingest, every further one copied from it with the identities changed.
A hub holding the copied rows treats them as its own: records sent again are `unchanged`,
every subject is found by its code, the stored standings are those the hub computes from the
records, and the feed serves every change once, in order."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.db import db
from credithub.standing import service as standing
from credithub.standing.models import StandingRow
from tests.conftest import PG_URL

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import scale_load
from ingest import AUTHORITY

pytestmark = pytest.mark.skipif(not PG_URL, reason="the loader writes by COPY: PostgreSQL only")

PERIOD, RECORDS = 20, 300  # three periods: the template and two copies


def _stored(app: Flask) -> dict[str, tuple[Any, Any, Any]]:
    with app.app_context():
        rows = db.session.execute(select(StandingRow)).scalars()
        return {r.subject_id: (r.data, r.valid_until, r.computed_at) for r in rows}


def test_copied_periods_are_what_the_hub_stores(
    app: Flask,
    client: FlaskClient,
    make_token: Any,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dept = make_token("department", uscc=AUTHORITY, name="zhujian")
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    scale_load.load(cli_env, RECORDS, processes=1, period=PERIOD)

    # The stored standings are the hub's own computation at the instant they were made.
    stored = _stored(app)
    assert len({at for _, _, at in stored.values()}) == 1
    at = next(iter(stored.values()))[2]
    with app.app_context(), db.transaction() as session:
        standing.refresh(session, list(stored), now=at)
    assert _stored(app) == stored

    # Every record sent again is unchanged: same subjects found, same content digest.
    subjects = RECORDS // scale_load.PER_SUBJECT
    items = [r for s in range(1, subjects + 1) for r in scale_load.subject_records(s, PERIOD)]
    resp = client.post("/api/v1/records", json={"records": items}, headers=dept)
    assert resp.status_code == 200, resp.get_json()
    statuses = [r["status"] for r in resp.get_json()["results"]]
    assert statuses == ["unchanged"] * RECORDS

    # Each subject is found by its code (persons by ID number) and answers as the hub computes.
    consumer = make_token("consumer")
    body = {"domain": "construction",
            "subjects": [scale_load.check_subject(s) for s in range(1, subjects + 1)]}  # fmt: skip
    results = client.post("/api/v1/check", json=body, headers=consumer).get_json()["results"]
    verdicts = [r["verdict"] for r in results]
    assert "unknown" not in verdicts
    listed = [s for s in range(1, subjects + 1) if s % 10 == 3]
    assert [verdicts[s - 1] for s in listed] == ["barred"] * len(listed)

    # The feed serves every change once, in order.
    admin = make_token("admin")
    page = client.get("/api/v1/feed?after=0&limit=1000", headers=admin).get_json()
    assert [int(i["cursor"]) for i in page["items"]] == list(range(1, RECORDS + 1))
    assert page["has_more"] is False
    refs = {i["record"]["ref"] for i in page["items"]}
    assert refs == {r["ref"] for r in items}
