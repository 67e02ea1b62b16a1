"""Quarantine: record versions whose signature failed, kept as they arrived and never applied.

A sync run (or a peer's push) puts each such version here with the reason; the joint office
reads them (`GET /api/v1/sync/quarantine`, `credithub sync quarantine`). Releasing checks each
held version again against the keys pinned now (say, after an admin accepted a partner's new
key) and writes those that verify, as a pull would; the others stay held. A sync run releases
what it quarantined before once the partner's register has been read again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from credithub.db import utcnow
from credithub.trust import forms
from credithub.trust.models import Quarantined

RELEASE_BATCH = 1000


def hold(session: Session, actor: str, held: Sequence[tuple[dict[str, Any], str]]) -> None:
    """Keep each (record as it arrived, reason) that `actor` sent."""
    for record, reason in held:
        origin = record.get("origin") or {}
        session.add(
            Quarantined(
                at=utcnow(),
                actor=actor,
                origin_hub=str(origin.get("hub"))[:64],
                origin_id=str(origin.get("id"))[:64],
                origin_version=int(origin.get("version") or 0),
                reason=reason,
                record=record,
            )
        )


def count(session: Session, actor: str | None = None) -> int:
    query = select(func.count()).select_from(Quarantined).where(Quarantined.released_at.is_(None))
    if actor is not None:
        query = query.where(Quarantined.actor == actor)
    return int(session.scalar(query) or 0)


def listing(
    session: Session, page: int, page_size: int, actor: str | None, released: bool
) -> dict[str, Any]:
    """A page of quarantined versions, newest first (held ones, or released ones)."""
    column = Quarantined.released_at
    where: list[ColumnElement[bool]] = [column.is_not(None) if released else column.is_(None)]
    if actor:
        where.append(Quarantined.actor == actor)
    total = session.scalar(select(func.count()).select_from(Quarantined).where(*where)) or 0
    rows = session.scalars(
        select(Quarantined)
        .where(*where)
        .order_by(Quarantined.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    items = [
        {
            "id": row.id,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "origin": {"hub": row.origin_hub, "id": row.origin_id, "version": row.origin_version},
            "reason": row.reason,
            "record": row.record,
            "released_at": row.released_at.isoformat() if row.released_at else None,
        }
        for row in rows
    ]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def release(
    session: Session,
    keys: forms.Keyring,
    write: Callable[[str, list[dict[str, Any]]], list[str]],
    actor: str | None = None,
    ids: Sequence[int] | None = None,
) -> dict[str, int]:
    """Write the held versions (of `actor`, or those of `ids`) that now verify with `keys`:
    `write(actor, records)` writes one actor's records and answers each one's status. Those
    that still fail stay held."""
    query = select(Quarantined).where(Quarantined.released_at.is_(None))
    if actor is not None:
        query = query.where(Quarantined.actor == actor)
    if ids:
        query = query.where(Quarantined.id.in_(list(ids)))
    rows = list(session.scalars(query.order_by(Quarantined.id).limit(RELEASE_BATCH)))
    ready = [row for row in rows if forms.check(row.record, keys) is None]
    by_actor: dict[str, list[Quarantined]] = {}
    for row in ready:
        by_actor.setdefault(row.actor, []).append(row)
    out = {"released": 0, "held": len(rows) - len(ready), "rejected": 0}
    now = utcnow()
    for name, group in by_actor.items():
        statuses = write(name, [row.record for row in group])
        for row, status in zip(group, statuses, strict=True):
            row.released_at = now
            out["rejected" if status == "rejected" else "released"] += 1
    return out
