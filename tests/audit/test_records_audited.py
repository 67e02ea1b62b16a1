"""`credithub audit verify` checks every stored record against the version the audit chain names
of it: a record edited in the database (content, state, version, any column that decides a
check), or added there, is named, and the command exits 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.records.digest import stored_version_digest
from credithub.records.jobs import expire_due
from credithub.records.models import Record
from tests.conftest import PG_URL
from tests.records.samples import SHUDAO, ZHUJIAN, penalty
from tests.records.test_expiry import listing

Headers = dict[str, str]


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[str]:
    resp = client.post("/api/v1/records", json={"records": list(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def edit(app: Flask, record_id: str, change: str) -> None:
    """Change a record as someone with the hub's database role would: no service, no audit.
    `change`: the SET clause, a constant of the test."""
    with app.app_context(), db.engine.begin() as conn:
        sql = text("UPDATE records SET " + change + " WHERE id = :id")  # noqa: S608 (a constant)
        conn.execute(sql, {"id": record_id})


@pytest.fixture
def three(client: FlaskClient, zhujian: Headers, run_cli: Callable[..., Any]) -> list[str]:
    ids = push(
        client,
        zhujian,
        penalty(ref="呼住建罚〔2026〕1号"),
        penalty(ref="呼住建罚〔2026〕2号"),
        penalty(ref="呼住建罚〔2026〕3号", uscc=SHUDAO),
    )
    ok = run_cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "records match the audit trail: 3 checked" in ok.output
    return ids


@pytest.mark.parametrize(
    "change",
    [
        # the fine, in the content
        "content = REPLACE(content::text, '20000.00', '200.00')::json"
        if PG_URL
        else "content = REPLACE(content, '20000.00', '200.00')",
        "status = 'revoked'",
        "version = version + 1",
        "ends_on = decided_on",  # the term: would stop the record counting
        # another subject: the record would count against the wrong company
        "subject_id = (SELECT subject_id FROM records WHERE ref = '呼住建罚〔2026〕3号')",
    ],
)
def test_a_record_edited_in_the_database_is_named(
    app: Flask, run_cli: Callable[..., Any], three: list[str], change: str
) -> None:
    victim = three[1]
    edit(app, victim, change)
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1, broken.output
    assert f"record {victim}:" in broken.output
    assert not any(f"record {other}:" in broken.output for other in three if other != victim)


def test_a_revoked_record_set_back_to_active_is_named(
    app: Flask, client: FlaskClient, zhujian: Headers, run_cli: Callable[..., Any]
) -> None:
    [rid] = push(client, zhujian, penalty())
    resp = client.post(f"/api/v1/records/{rid}/revoke", json={"reason": "撤销"}, headers=zhujian)
    assert resp.status_code == 200
    assert run_cli("audit", "verify").exit_code == 0
    edit(app, rid, "status = 'active', revoked_at = NULL")
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1
    assert f"record {rid}: the stored version 2 differs" in broken.output


def test_an_expired_record_is_vouched_for_at_its_new_version(
    app: Flask, client: FlaskClient, zhujian: Headers, run_cli: Callable[..., Any]
) -> None:
    # A listing of long ago, past its list's default term: due to expire now.
    [rid] = push(client, zhujian, listing("HMD-OLD", ends=None, listed=-40 * 31))
    with app.app_context():
        assert expire_due()["expired"] == 1
    ok = run_cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    edit(app, rid, "status = 'active'")
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1
    assert f"record {rid}: the stored version 2 differs" in broken.output


def test_a_record_added_in_the_database_is_named(
    app: Flask, run_cli: Callable[..., Any], three: list[str]
) -> None:
    with app.app_context(), db.engine.begin() as conn:
        columns = [c.name for c in Record.__table__.columns]
        chosen = ", ".join(
            {"id": "'forged'", "ref": "'forged-ref'", "origin_id": "'forged'"}.get(c, c)
            for c in columns
        )
        copied = "INSERT INTO records (" + ", ".join(columns) + ") SELECT " + chosen
        conn.execute(text(copied + " FROM records WHERE id = :id"), {"id": three[0]})
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1
    assert "record forged: version 1 is stored but no audit entry names the record" in (
        broken.output
    )


def test_each_written_version_carries_its_digest(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    """The batch's entry names each record with the digest of the version as stored, the
    digest `audit verify` recomputes."""
    ids = push(client, zhujian, penalty(ref="a"), penalty(ref="b"))
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "records.ingest")
        ).one()
        named = {c[0]: c for c in orjson.loads(entry.detail)["changes"]}
        table = Record.__table__
        for rid in ids:
            row = dict(db.session.execute(table.select().where(table.c.id == rid)).mappings().one())
            assert named[rid][1] == row["version"] == 1
            assert named[rid][3] == row["content_hash"]
            assert named[rid][4] == stored_version_digest(row)
