"""The bidder check: barred, caution or clear in a domain at an instant, each restriction
citing its measure, legal basis and record; every answer recorded with its digest so a
procuring entity can later prove what it was told.

This is the hub's hottest path. A subject and its stored standing come back from one indexed
query (a batch: one per few hundred subjects); only what that misses (legacy aliases, stale or
past standings) takes the slower general paths.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.db import bulk_insert, db, new_id, utcnow
from credithub.entities.models import Subject
from credithub.entities.service import SubjectRef, find_subjects
from credithub.rules import active_pack
from credithub.standing.compute import Standing
from credithub.standing.models import CheckLog, StandingRow
from credithub.standing.service import CHUNK, compute_all, is_current
from credithub.sync.service import freshness


@dataclass
class Asked:
    """One subject of a check as the client named it."""

    ref: SubjectRef
    code: str  # the USCC, or the masked ID number: what the log and the answer may show


@dataclass
class _Found:
    id: str
    name: str
    type: str
    standing: Standing | None = None
    related: list[dict[str, Any]] | None = None


_COLUMNS = (
    Subject.id, Subject.name, Subject.type, Subject.uscc, Subject.id_hash,
    StandingRow.computed_at, StandingRow.valid_until, StandingRow.pack_digest, StandingRow.data,
)  # fmt: skip


def _lookup(session: Session, asked: Sequence[Asked], at: datetime) -> list[_Found | None]:
    pack = active_pack()
    by_key: dict[tuple[str, str], _Found] = {}
    base = select(*_COLUMNS).outerjoin(StandingRow, StandingRow.subject_id == Subject.id)
    for scheme, column in (("uscc", Subject.uscc), ("id", Subject.id_hash)):
        values = sorted({k[1] for a in asked for k in a.ref.lookup_keys()[:1] if k[0] == scheme})
        for i in range(0, len(values), CHUNK):
            for row in session.execute(base.where(column.in_(values[i : i + CHUNK]))):
                found = _Found(row.id, row.name, row.type)
                if row.data is not None and is_current(row, at, pack):
                    found.standing = Standing.from_dict(row.data, explained=False)
                    found.related = row.data.get("related", [])
                by_key[(scheme, row.uscc if scheme == "uscc" else row.id_hash)] = found
    result: list[_Found | None] = [by_key.get(a.ref.lookup_keys()[0]) for a in asked]
    _resolve_aliases(session, asked, result)
    _compute_stale(session, [f for f in result if f is not None and f.standing is None], at)
    return result


def _resolve_aliases(session: Session, asked: Sequence[Asked], result: list[_Found | None]) -> None:
    """Subjects known only by a legacy code (e.g. the 组织机构代码 inside the USCC asked for)."""
    missing = [i for i, f in enumerate(result) if f is None]
    if not missing:
        return
    subjects = find_subjects(session, [asked[i].ref for i in missing])
    for i, subject in zip(missing, subjects, strict=True):
        if subject is not None:
            result[i] = _Found(subject.id, subject.name, subject.type)


def _compute_stale(session: Session, found: list[_Found], at: datetime) -> None:
    if not found:
        return
    computed = compute_all(session, sorted({f.id for f in found}), at)
    for f in found:
        f.standing, f.related, _ = computed[f.id]


def _in_domain(restrictions: Sequence[dict[str, Any]], domain: str) -> list[dict[str, Any]]:
    return [r for r in restrictions if domain in r["domains"]]


def answer(found: _Found | None, asked: Asked, domain: str, at: datetime) -> dict[str, Any]:
    subject: dict[str, Any] = {"name": found.name if found else None}
    if found is not None:
        subject["type"] = found.type
    subject["id_number" if asked.ref.type == "person" else "uscc"] = asked.code
    if found is None or found.standing is None:
        return {
            "subject": subject,
            "known": False,
            "verdict": "clear",
            "restrictions": [],
            "score": None,
            "related": [],
            "at": at.isoformat(),
        }
    standing = found.standing
    related = []
    for party in found.related or []:
        restrictions = _in_domain(party["restrictions"], domain)
        if restrictions:
            related.append({**party, "restrictions": restrictions})
    return {
        "subject": subject,
        "known": True,
        "verdict": standing.verdict(domain),
        "restrictions": [r.to_dict() for r in standing.restrictions_in(domain)],
        "score": {"value": standing.score, "level": standing.level, "points": standing.points},
        "related": related,
        "at": at.isoformat(),
    }


def check(
    session: Session, asked: Sequence[Asked], domain: str, at: datetime, client: str
) -> list[dict[str, Any]]:
    """Answer for each subject, in order, and record every answer."""
    found = _lookup(session, asked, at)
    answers = [answer(f, a, domain, at) for f, a in zip(found, asked, strict=True)]
    sources = freshness(session)
    if sources:  # a hub fed by others says how fresh each source is
        for out in answers:
            out["sources"] = sources
    _record(session, found, asked, answers, domain, at, client)
    return answers


def _digest(answer: dict[str, Any]) -> str:
    text = json.dumps(answer, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _record(
    session: Session,
    found: Sequence[_Found | None],
    asked: Sequence[Asked],
    answers: list[dict[str, Any]],
    domain: str,
    at: datetime,
    client: str,
) -> None:
    batch = new_id() if len(asked) > 1 else None
    now = utcnow()
    rows = []
    for subject, a, out in zip(found, asked, answers, strict=True):
        digest = _digest(out)
        out["check"] = {"digest": digest, "asked_at": now.isoformat()}
        rows.append(
            {
                "asked_at": now,
                "client": client,
                "batch": batch,
                "domain": domain,
                "as_of": at,
                "subject_id": subject.id if subject else None,
                "subject_code": a.code,
                "verdict": out["verdict"],
                "digest": digest,
            }
        )
    # The log is the only write of a check: take the write lock only now (see begin_writing).
    db.begin_writing()
    bulk_insert(session, CheckLog, rows)
