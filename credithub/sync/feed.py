"""The change feed (GET /api/v1/feed): every committed record change once, in commit order.

Positions are assigned under a lock at commit (records.changes), so a reader that has seen
position N can never later find a smaller one appear. Items carry the subject's full identity,
a person's ID number included (peers must find the same person): the feed is for peer hubs only.
A record's `status` is the one stored at that version, not the one read today: a peer stores
what the origin stores, and learns of an expiry from the origin's `expire` change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credithub.entities.models import Subject
from credithub.privacy import personal_data
from credithub.records.changes import last_position
from credithub.records.models import Record, RecordChange
from credithub.records.service import record_row, subject_summaries, to_output

MAX_LIMIT = 1000


def identity(subject: Subject, name: str | None = None) -> dict[str, Any]:
    """What a peer needs to find the same subject: codes, aliases, a person's ID number."""
    out: dict[str, Any] = {"type": subject.type, "name": name or subject.name}
    if subject.uscc:
        out["uscc"] = subject.uscc
    legacy = {i.scheme: i.value for i in subject.identifiers}
    if legacy:
        out["legacy_codes"] = legacy
    if subject.id_cipher is not None:
        out["id_type"] = subject.id_type
        out["id_number"] = personal_data().decrypt(subject.id_cipher, subject.id_type or "")
    return out


def _subjects(session: Session, ids: Iterable[str]) -> dict[str, Subject]:
    query = (
        select(Subject).options(selectinload(Subject.identifiers)).where(Subject.id.in_(set(ids)))
    )
    return {s.id: s for s in session.scalars(query)}


def read(
    session: Session,
    after: int,
    limit: int,
    exclude_hub: str | None,
    exclude_actor: str | None = None,
) -> dict[str, Any]:
    """Changes after position `after`, without those that came from `exclude_hub` (their
    origin) or arrived through `exclude_actor` (the connector now pushing: no echo)."""
    query = select(RecordChange).where(RecordChange.position > after)
    if exclude_hub:
        query = query.where(RecordChange.origin_hub != exclude_hub)
    if exclude_actor:
        query = query.where(RecordChange.actor != exclude_actor)
    changes = list(session.scalars(query.order_by(RecordChange.position).limit(limit + 1)))
    has_more = len(changes) > limit
    changes = changes[:limit]
    stored = {
        r.id: r
        for r in session.scalars(
            select(Record).where(Record.id.in_({c.record_id for c in changes}))
        )
    }
    person_ids = {r.subject_id for r in stored.values()}
    person_ids |= {r.legal_rep_id for r in stored.values() if r.legal_rep_id}
    people = _subjects(session, person_ids)
    summaries = subject_summaries(session, person_ids)
    items = []
    for change in changes:
        row = stored[change.record_id]
        # No snapshot: this is the record's current version, which is the record row itself.
        snapshot = change.snapshot
        record = dict(
            snapshot
            if snapshot is not None
            else to_output(record_row(row), summaries, as_stored=True)
        )
        subject = identity(people[row.subject_id], record["subject"].get("name"))
        rep = record["subject"].get("legal_rep")
        if rep is not None:
            subject["legal_rep"] = {"name": rep.get("name")}
            if row.legal_rep_id in people:
                found = identity(people[row.legal_rep_id])
                subject["legal_rep"] |= {
                    k: found[k] for k in ("id_type", "id_number") if k in found
                }
        record["subject"] = subject
        for key in ("id", "version", "created_at", "updated_at", "history"):
            record.pop(key, None)
        # Absent is absent: a null `severity` on a listing would be a field of another kind.
        record = {k: v for k, v in record.items() if v is not None}
        items.append({"cursor": str(change.position), "op": change.op, "record": record})
    if has_more:
        next_cursor = changes[-1].position
    else:
        # Past everything committed, excluded changes included: they need not be read again.
        next_cursor = max(after, last_position(session), changes[-1].position if changes else 0)
    return {"items": items, "next": str(next_cursor), "has_more": has_more}
