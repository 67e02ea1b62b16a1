"""What the workflow tests share: departments, records on a controlled clock, reading back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.records.models import Record, RecordChange
from tests.records.samples import CAIZHENG, PEER_ZHUJIAN, SHUDAO, ZHUJIAN
from tests.signing import signed_all

Headers = dict[str, str]
MakeToken = Callable[..., Headers]


def tokens(make_token: MakeToken) -> dict[str, Headers]:
    return {
        "zhujian": make_token("department", uscc=ZHUJIAN, name="住建局"),
        "caizheng": make_token("department", uscc=CAIZHENG, name="财政局"),
        "admin": make_token("admin", name="联合办公室"),
        "bidding": make_token("consumer", name="bidding"),
    }


def listing(
    ref: str = "呼住建黑〔2026〕9号", on: str = "2026-01-20", **extra: Any
) -> dict[str, Any]:
    """A 公共资源交易领域严重失信主体 listing of 四川蜀道路桥 (barred in every domain)."""
    record: dict[str, Any] = {
        "kind": "blacklist", "ref": ref, "decided_on": on, "list": "ggzy-serious",
        "listed_on": on, "basis": "发改法规〔2018〕457号", "reason": "串通投标",
        "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
    }  # fmt: skip
    record.update(extra)
    return record


def penalty(ref: str, on: str, categories: list[str], **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "penalty", "ref": ref, "decided_on": on, "categories": categories,
        "violation": "未按规定履行安全生产管理职责",
        "basis": "《建设工程安全生产管理条例》第六十二条",
        "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
    }  # fmt: skip
    record.update(extra)
    return record


def push(client: FlaskClient, headers: Headers, record: dict[str, Any]) -> str:
    resp = client.post("/api/v1/records", json={"records": [record]}, headers=headers)
    [result] = resp.get_json()["results"]
    assert result["status"] in ("created", "updated"), result
    return str(result["id"])


def post(client: FlaskClient, url: str, headers: Headers | None, body: Any = None) -> Any:
    resp = client.post(url, json=body if body is not None else {}, headers=headers or {})
    return resp.status_code, resp.get_json()


def get(client: FlaskClient, url: str, headers: Headers) -> Any:
    resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def check(client: FlaskClient, headers: Headers, domain: str = "construction") -> Any:
    return get(client, f"/api/v1/check/{SHUDAO}?domain={domain}", headers)


def stored(app: Flask, record_id: str) -> tuple[str, int]:
    with app.app_context():
        record = db.session.get(Record, record_id)
        assert record is not None
        return record.status, record.version


def ops(app: Flask, record_id: str) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(RecordChange.version, RecordChange.op)
            .where(RecordChange.record_id == record_id)
            .order_by(RecordChange.position)
        )
        return [(v, o) for v, o in rows]


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def peer_record(client: FlaskClient, make_token: MakeToken) -> str:
    """A listing created at hub city-x, as its peer client pushes it here."""
    origin = {"hub": "city-x", "id": "x-1", "version": 1}
    authority = {"name": "某市住房和城乡建设局", "uscc": PEER_ZHUJIAN}
    record = listing("某住建黑〔2026〕1号", origin=origin, authority=authority)
    peer = make_token("peer", hub="city-x")
    resp = client.post("/api/v1/records", json={"records": signed_all([record])}, headers=peer)
    [result] = resp.get_json()["results"]
    assert result["status"] == "created", result
    return str(result["id"])
