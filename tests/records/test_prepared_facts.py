"""What the standing computation reads of a record is the same whether read off the checked
record (a forecast, made before it is written) or off the row it is written as."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from credithub.db import db
from credithub.records.models import Record
from credithub.records.prepare import Actor
from credithub.records.service import _facts, prepare_batch, write_batch
from credithub.standing.service import record_facts
from tests.records.samples import BEIJIANG, SHUDAO, ZHUJIAN, penalty

SUBJECT = {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}


def test_a_prepared_record_has_the_facts_of_its_row(app: Flask) -> None:
    pack = app.extensions["credithub.rule_pack"]
    items: list[dict[str, Any]] = [
        penalty(),
        penalty("呼住建罚〔2026〕13号", uscc=SHUDAO, fine_yuan="2000000.5", categories=["警告"]),
        {
            k: v
            for k, v in penalty("呼住建罚〔2026〕14号", domains=["construction"]).items()
            if k not in ("fine_yuan", "basis")
        },
        {
            "kind": "blacklist",
            "ref": "HMD-2026-007",
            "decided_on": "2026-06-02",
            "list": "ggzy-serious",
            "listed_on": "2026-06-03",
            "basis": "发改法规〔2018〕457号",
            "subject": SUBJECT,
        },
        {
            "kind": "misconduct",
            "ref": "BL-2026-001",
            "decided_on": "2026-06-01",
            "occurred_on": "2026-05-20",
            "code": next(iter(pack.misconduct)),
            "subject": SUBJECT,
        },
        {
            "kind": "commendation",
            "ref": "HONG-2026-3",
            "decided_on": "2026-01-10",
            "code": next(iter(pack.commendations)),
            "subject": {"type": "organization", "name": "北疆", "uscc": BEIJIANG},
        },
    ]
    actor = Actor(name="zhujian", kind="department", uscc=ZHUJIAN)
    with app.app_context():
        batch = prepare_batch(items, actor)
        assert len(batch.prepared) == len(items), batch.results
        with db.transaction() as session:
            result = write_batch(session, batch, actor)
        assert [r.status for r in result.results] == ["created"] * len(items)
        rows = {row["id"]: row for row in db.session.execute(select(Record.__table__)).mappings()}
        for p in batch.prepared:
            assert _facts(p) == record_facts(rows[p.record_id]), p.ref
