"""The credit report's sections (信用报告), after the national 公共信用信息报告标准: basic
information, administrative penalties, serious-untrustworthiness listings, commendations, and
objections and credit repairs; each from the subject's public profile (`web.service`), so the
report shows exactly what the public sees, as plain JSON values (the digest is taken of them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.web import explain
from credithub.workflows.models import Objection, Repair

OBJECTION_STATUSES = {
    "received": "已提交,待受理",
    "refused": "不予受理",
    "accepted": "已受理,核查中",
    "forwarded": "已转认定部门核查",
    "decided": "已办结",
}
OUTCOMES = {"upheld": "维持原记录", "corrected": "已更正", "revoked": "已撤销记录"}
REPAIR_STATUSES = {"pending": "审核中", "approved": "已修复", "rejected": "不予修复"}


def _record(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "ref": r["ref"],
        "authority": r["authority"]["name"],
        "decided_on": r["decided_on"],
        "category": r["category"],
        "meaning": r["meaning"],
        "domains": r["domain_titles"],
        "status": r["status_title"],
        "legal_rep": r["legal_rep"],
    }


def _workflows(session: Session, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objections and repairs on these records, oldest first: what, on which record, filed
    when, where it stands (never who filed it or how to reach them)."""
    refs = {r["id"]: r["ref"] for r in records}
    if not refs:
        return []
    out: list[tuple[str, Objection | Repair, str]] = []
    for item in session.scalars(select(Objection).where(Objection.record_id.in_(list(refs)))):
        status = OBJECTION_STATUSES.get(item.status, item.status)
        if item.outcome:
            status += f"({OUTCOMES.get(item.outcome, item.outcome)})"
        out.append(("异议", item, status))
    for repair in session.scalars(select(Repair).where(Repair.record_id.in_(list(refs)))):
        out.append(("信用修复", repair, REPAIR_STATUSES.get(repair.status, repair.status)))
    out.sort(key=lambda entry: (entry[1].filed_at, entry[1].id))
    return [
        {
            "type": kind,
            "ref": refs[item.record_id],
            "filed_on": item.filed_at.date().isoformat(),
            "status": status,
        }
        for kind, item, status in out
    ]


def sections(session: Session, page: dict[str, Any]) -> dict[str, Any]:
    """The report's sections from a profile page's data (`web.service.profile`)."""
    by_kind: dict[str, list[dict[str, Any]]] = {k: [] for k in explain.KINDS}
    for r in page["records"]:
        by_kind[r["kind"]].append(_record(r))
    return {
        "basic": {
            "name": page["name"],
            "uscc": page["uscc"],
            "type": "法人和非法人组织" if page["type"] == "organization" else "自然人",
            "former_names": [n.name for n in page["names"] if n.name != page["name"]],
            "score": page["score"],
            "level": page["level"],
            "level_title": page["level_title"],
        },
        "penalties": by_kind["penalty"],
        "misconduct": by_kind["misconduct"],
        "listings": by_kind["blacklist"],
        "restrictions": [
            {
                "measure": r["title"],
                "effect": r["effect_title"],
                "domains": r["domain_titles"],
                "from": r["from"],
                "until": r["until"],
                "basis": r["basis"],
            }
            for r in page["restrictions"]
        ],
        "commendations": by_kind["commendation"],
        "objections_and_repairs": _workflows(session, page["records"]),
        "freshness": {
            key: value.isoformat() if value is not None else None
            for key, value in page["freshness"].items()
        },
    }
