"""A large push is checked part by part apart (records.pipeline) while the worker writes: the
answer and what is stored are those of one batch checked in the worker itself."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.records import pipeline, service
from credithub.records.models import Record, RecordChange
from credithub.standing.models import StandingRow
from credithub.standing.service import compute_all
from tests.records.samples import (
    CAIZHENG,
    SHUDAO,
    ZHUJIAN,
    make_uscc,
    penalty,
    sgs_csv,
    sgs_row,
)

Headers = dict[str, str]

pytestmark = pytest.mark.skipif(not pipeline.available(), reason="the helper needs fork, two cores")


@pytest.fixture
def app(app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Pushes of two records or more go through the helper, in parts of three."""
    monkeypatch.setattr(service, "PART", 3)
    return app_factory(server={"prepare_apart_from": 2})


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def push(client: FlaskClient, headers: Headers, records: list[Any], atomic: bool = False) -> Any:
    url = "/api/v1/records" + ("?atomic=true" if atomic else "")
    return client.post(url, json={"records": records}, headers=headers)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def mixed() -> list[Any]:
    """Eight items over three parts: a key corrected and sent again across parts, a bad item,
    another department's record, a subject with several records."""
    other = make_uscc("91150700", "P0000001")
    return [
        penalty("呼住建罚〔2026〕1号"),  # part 1
        penalty("呼住建罚〔2026〕2号", decided_on="2099-01-01"),  # rejected: in the future
        penalty("呼住建罚〔2026〕3号", uscc=SHUDAO),
        penalty("呼住建罚〔2026〕1号", fine_yuan="1"),  # part 2: corrects item 0
        penalty("呼财罚〔2026〕1号", authority={"uscc": CAIZHENG, "name": "财政局"}),  # refused
        penalty("呼住建罚〔2026〕4号", uscc=SHUDAO, fine_yuan="3000000.00"),
        penalty("呼住建罚〔2026〕1号", fine_yuan="1"),  # part 3: the same again
        penalty("呼住建罚〔2026〕5号", uscc=other),
    ]


def test_a_push_in_parts_answers_as_one_batch(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    resp = push(client, zhujian, mixed())
    assert resp.status_code == 200
    body = resp.get_json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "created",
        "rejected",
        "created",
        "updated",
        "rejected",
        "created",
        "unchanged",
        "created",
    ]
    assert [r["index"] for r in body["results"]] == list(range(8))
    assert "decided_on" in body["results"][1]["errors"]
    assert "authority.uscc" in body["results"][4]["errors"]
    assert body["results"][3]["id"] == body["results"][0]["id"]
    assert body["results"][6]["version"] == 2
    assert (body["accepted"], body["rejected"]) == (6, 2)
    assert count(app, Record) == 4
    assert count(app, RecordChange) == 5  # four created, one corrected
    with app.app_context():
        refused = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.refused")
        ).all()
        assert len(refused) == 1


def test_standings_after_a_push_in_parts_are_those_the_records_give(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    """Each stored standing is the one its stored records give, a subject met in several
    parts included."""
    assert push(client, zhujian, mixed()).status_code == 200
    with app.app_context():
        stored = {s.subject_id: s for s in db.session.scalars(select(StandingRow))}
        assert len(stored) == 3
        for sid, row in stored.items():
            [(standing, related, _)] = compute_all(db.session, [sid], row.computed_at).values()
            assert row.data == {**standing.to_dict(), "related": related}, sid


def test_an_atomic_push_in_parts_with_a_rejected_item_keeps_nothing(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    records = [penalty(f"呼住建罚〔2026〕{n}号") for n in range(1, 8)]
    records[5]["fine_yuan"] = "-1"  # in the second part, after the first is written
    resp = push(client, zhujian, records, atomic=True)
    assert resp.status_code == 422
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 7
    assert "fine_yuan" in results[5]["errors"]
    assert all("batch" in r["errors"] for i, r in enumerate(results) if i != 5)
    assert count(app, Record) == count(app, RecordChange) == 0


def test_a_push_survives_the_helper_dying(
    app: Flask, client: FlaskClient, zhujian: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper killed outright: the parts it owed are checked in the worker, same answer."""
    writer, real = os.getpid(), service._Part.prepare
    checked_here: list[int] = []

    def dies_apart(part: service._Part, context: pipeline.Context) -> service.Batch:
        if os.getpid() != writer:
            os.kill(os.getpid(), signal.SIGKILL)
        checked_here.append(len(part.items))
        return real(part, context)

    monkeypatch.setattr(service._Part, "prepare", dies_apart)  # the helper is forked: it sees it
    records = [penalty(f"呼住建罚〔2026〕{n}号") for n in range(1, 8)]
    resp = push(client, zhujian, records)
    assert resp.status_code == 200
    assert [r["status"] for r in resp.get_json()["results"]] == ["created"] * 7
    assert sorted(checked_here) == [1, 3, 3]  # every part, in the worker
    assert count(app, Record) == 7


def test_a_sgs_upload_in_parts_answers_by_row_and_field_code(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rows = [
        sgs_row(1),
        sgs_row(2, CF_JDRQ="2099-01-01"),  # rejected by the parser
        sgs_row(3, uscc=SHUDAO),
        sgs_row(4, CF_CFLB="罚金"),  # part 2: rejected by the parser
        sgs_row(1, CF_NR_FK="0.5"),  # corrects row 1
        sgs_row(5, CF_CFJGDM=CAIZHENG),  # another department's: refused when checked
        sgs_row(6, uscc=SHUDAO),  # part 3
    ]
    resp = client.post(
        "/api/v1/records/sgs",
        data=sgs_csv(rows, "gbk"),
        headers={**zhujian, "Content-Type": "text/csv"},
    )
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == [
        "created",
        "rejected",
        "created",
        "rejected",
        "updated",
        "rejected",
        "created",
    ]
    assert [r["index"] for r in results] == list(range(7))
    assert "CF_JDRQ" in results[1]["errors"]
    assert "CF_CFLB" in results[3]["errors"]
    assert "CF_CFJGDM" in results[5]["errors"]
    assert count(app, Record) == 3
