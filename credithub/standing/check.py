"""The bidder check: barred, caution or clear in a domain at an instant, each restriction
citing its measure, legal basis and record; every answer recorded with its digest so a
procuring entity can later prove what it was told."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.db import bulk_insert, db, new_id
from credithub.entities.models import Subject
from credithub.entities.service import SubjectRef, find_subjects
from credithub.records.models import Record
from credithub.standing.compute import Restriction, Standing, compute_standing, counts_at
from credithub.standing.models import CheckLog
from credithub.standing.service import facts_for, rule_pack, standings_at


@dataclass
class Asked:
    """One subject of a check as the client named it."""

    ref: SubjectRef
    code: str  # the USCC, or the masked ID number: what the log and the answer may show


def restriction_out(r: Restriction) -> dict[str, Any]:
    return {
        "measure": r.measure, "title": r.title, "effect": r.effect, "domains": list(r.domains),
        "from": r.start.isoformat(), "until": r.until.isoformat() if r.until else None,
        "basis": r.basis, "record_id": r.record_id, "authority": r.authority, "reason": r.reason,
    }  # fmt: skip


def _digest(answer: dict[str, Any]) -> str:
    text = json.dumps(answer, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _subject_out(subject: Subject | None, asked: Asked) -> dict[str, Any]:
    if subject is None:
        out: dict[str, Any] = {"name": None}
    else:
        out = {"name": subject.name, "type": subject.type}
    if asked.ref.type == "person":
        out["id_number"] = asked.code
    else:
        out["uscc"] = asked.code
    return out


def answer(
    subject: Subject | None,
    asked: Asked,
    standing: Standing | None,
    domain: str,
    at: datetime,
    related: list[dict[str, Any]],
) -> dict[str, Any]:
    if subject is None or standing is None:
        return {
            "subject": _subject_out(None, asked),
            "known": False,
            "verdict": "clear",
            "restrictions": [],
            "score": None,
            "related": [],
            "at": at.isoformat(),
        }
    return {
        "subject": _subject_out(subject, asked),
        "known": True,
        "verdict": standing.verdict(domain),
        "restrictions": [restriction_out(r) for r in standing.restrictions_in(domain)],
        "score": {"value": standing.score, "level": standing.level, "points": standing.points},
        "related": related,
        "at": at.isoformat(),
    }


def _legal_reps(session: Session, subject_ids: Sequence[str]) -> dict[str, str]:
    """The legal representative each organization's latest record names (if any)."""
    reps: dict[str, str] = {}
    if not subject_ids:
        return reps
    query = (
        select(Record.subject_id, Record.legal_rep_id)
        .where(Record.subject_id.in_(subject_ids), Record.legal_rep_id.is_not(None))
        .order_by(Record.decided_on)
    )
    for sid, rep in session.execute(query):
        if rep is not None:
            reps[sid] = rep  # later decisions overwrite earlier ones
    return reps


def _related(
    session: Session, subject_ids: Sequence[str], domain: str, at: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Listings of legal representatives whose list reaches representatives (457号)."""
    pack = rule_pack()
    reps = _legal_reps(session, subject_ids)
    if not reps:
        return {}
    facts = facts_for(session, set(reps.values()))
    people = {
        s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(set(reps.values()))))
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for sid, rep in reps.items():
        reaching = [
            f
            for f in facts[rep]
            if f.kind == "blacklist"
            and counts_at(f, at)
            and "legal_rep" in pack.lists[f.code or ""].reaches
        ]
        if not reaching:
            continue
        standing = compute_standing(reaching, pack, at)
        restrictions = [restriction_out(r) for r in standing.restrictions_in(domain)]
        if restrictions:
            person = people[rep]
            out[sid] = [
                {
                    "role": "legal_rep",
                    "name": person.name,
                    "id_number": person.id_masked,
                    "restrictions": restrictions,
                }
            ]
    return out


def check(
    session: Session, asked: Sequence[Asked], domain: str, at: datetime, client: str
) -> list[dict[str, Any]]:
    """Answer for each subject, in order, and record every answer."""
    subjects = find_subjects(session, [a.ref for a in asked])
    known = sorted({s.id for s in subjects if s is not None})
    standings = standings_at(session, known, at)
    related = _related(session, known, domain, at)
    answers = [
        answer(
            s, a, standings.get(s.id) if s else None, domain, at, related.get(s.id, []) if s else []
        )
        for s, a in zip(subjects, asked, strict=True)
    ]
    _record(session, subjects, asked, answers, domain, at, client)
    return answers


def _record(
    session: Session,
    subjects: Sequence[Subject | None],
    asked: Sequence[Asked],
    answers: list[dict[str, Any]],
    domain: str,
    at: datetime,
    client: str,
) -> None:
    from credithub.db import utcnow

    batch = new_id() if len(asked) > 1 else None
    now = utcnow()
    rows = []
    for subject, a, out in zip(subjects, asked, answers, strict=True):
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
