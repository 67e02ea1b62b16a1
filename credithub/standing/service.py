"""Materialise standings: recompute them with every record change, and when time makes them due.

A stored standing answers checks for instants from when it was computed until `valid_until`
(the next instant time alone changes it) under the rule pack it was computed with. Anything
else (a past instant, a later one, another pack) is computed from the records on the spot.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from credithub.db import bulk_insert, utcnow
from credithub.records.models import Record
from credithub.rules.pack import RulePack
from credithub.standing.compute import RecordFacts, Standing, compute_standing
from credithub.standing.models import StandingRow

CHUNK = 500
_FACT_COLUMNS = (
    Record.id, Record.kind, Record.ref, Record.subject_id, Record.authority_uscc,
    Record.authority_name, Record.decided_on, Record.starts_on, Record.ends_on, Record.code,
    Record.domains, Record.severity, Record.status, Record.revoked_at, Record.content,
)  # fmt: skip


def rule_pack() -> RulePack:
    pack: RulePack = current_app.extensions["credithub.rule_pack"]
    return pack


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def facts_for(session: Session, subject_ids: Iterable[str]) -> dict[str, list[RecordFacts]]:
    """Every record of each subject, as the standing computation needs it."""
    ids = sorted(set(subject_ids))
    found: dict[str, list[RecordFacts]] = {sid: [] for sid in ids}
    for part in _chunks(ids):
        for row in session.execute(select(*_FACT_COLUMNS).where(Record.subject_id.in_(part))):
            content = row.content
            fine = content.get("fine_yuan")
            found[row.subject_id].append(
                RecordFacts(
                    id=row.id, kind=row.kind, ref=row.ref, authority_uscc=row.authority_uscc,
                    authority_name=row.authority_name, decided_on=row.decided_on,
                    starts_on=row.starts_on, ends_on=row.ends_on, code=row.code,
                    categories=tuple(content.get("categories") or ()),
                    fine_yuan=Decimal(fine) if fine is not None else None,
                    domains=tuple(row.domains), severity=row.severity, status=row.status,
                    revoked_at=row.revoked_at, basis=content.get("basis") or "",
                )
            )  # fmt: skip
    return found


def refresh(session: Session, subject_ids: Iterable[str], now: datetime | None = None) -> int:
    """Recompute and store the standings of these subjects in the caller's transaction."""
    ids = sorted(set(subject_ids))
    if not ids:
        return 0
    pack, now = rule_pack(), now or utcnow()
    facts = facts_for(session, ids)
    rows = []
    for sid in ids:
        standing = compute_standing(facts[sid], pack, now)
        rows.append(
            {
                "subject_id": sid,
                "computed_at": now,
                "valid_until": standing.valid_until,
                "pack_digest": pack.digest,
                "data": standing.to_dict(),
            }
        )
    for part in _chunks(ids):
        session.execute(delete(StandingRow).where(StandingRow.subject_id.in_(part)))
    bulk_insert(session, StandingRow, rows)
    return len(rows)


def stored_standings(session: Session, subject_ids: Iterable[str]) -> dict[str, StandingRow]:
    ids = sorted(set(subject_ids))
    found: dict[str, StandingRow] = {}
    for part in _chunks(ids):
        for row in session.scalars(select(StandingRow).where(StandingRow.subject_id.in_(part))):
            found[row.subject_id] = row
    return found


def is_current(row: StandingRow | None, at: datetime, pack: RulePack) -> bool:
    return (
        row is not None
        and row.pack_digest == pack.digest
        and row.computed_at <= at
        and (row.valid_until is None or at < row.valid_until)
    )


def standings_at(session: Session, subject_ids: Sequence[str], at: datetime) -> dict[str, Standing]:
    """Each subject's standing at `at`: stored when current for `at`, computed otherwise."""
    pack = rule_pack()
    stored = stored_standings(session, subject_ids)
    result: dict[str, Standing] = {}
    stale: list[str] = []
    for sid in subject_ids:
        row = stored.get(sid)
        if row is not None and is_current(row, at, pack):
            result[sid] = Standing.from_dict(row.data)
        else:
            stale.append(sid)
    if stale:
        facts = facts_for(session, stale)
        for sid in stale:
            result[sid] = compute_standing(facts[sid], pack, at)
    return result


def due_subjects(session: Session, now: datetime, everything: bool = False) -> list[str]:
    """Subjects whose stored standing time or a rule-pack change has made stale, or that have
    records but no standing yet; with `everything`, every subject with records."""
    with_records = select(Record.subject_id).distinct()
    if everything:
        return [str(sid) for sid in session.scalars(with_records)]
    stale = select(StandingRow.subject_id).where(
        or_(StandingRow.valid_until <= now, StandingRow.pack_digest != rule_pack().digest)
    )
    missing = with_records.where(~Record.subject_id.in_(select(StandingRow.subject_id)))
    return [str(sid) for sid in session.scalars(stale.union(missing))]
