"""Records as a reader may see them (records.visibility decides; this applies it to reads)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from credithub import clock
from credithub.db import utcnow
from credithub.entities.models import Subject
from credithub.errors import NotFound
from credithub.records import visibility as vis
from credithub.records.models import Record
from credithub.records.read import get_record, list_records, record_row
from credithub.rules import active_pack
from credithub.standing.service import standings_at

_CHUNK = 400


def restricting(session: Session, subject_ids: Iterable[str]) -> set[str]:
    """The ids of the records behind these subjects' restrictions now."""
    ids = sorted(set(subject_ids))
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        for standing in standings_at(session, ids[i : i + _CHUNK], utcnow()).values():
            found.update(r.record_id for r in standing.restrictions if r.record_id)
    return found


def get_record_for(session: Session, record_id: str, audience: vis.Audience) -> dict[str, Any]:
    """A record as this reader sees it: the office with its history, a consumer without, and
    only while it counts (404 otherwise, as for a record that does not exist)."""
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}")
    row = record_row(record)
    if audience.for_record(row) == vis.OFFICE:
        return get_record(session, record_id)
    pack, day = active_pack(), clock.today()
    if not vis.sees(audience, row, pack, day, restricting(session, [record.subject_id])):
        raise NotFound(f"no record {record_id}")
    return get_record(session, record_id, with_history=False)


def shown_clause(
    session: Session, audience: vis.Audience, subject: str | None = None
) -> ColumnElement[bool] | None:
    """The condition on `records` of what this reader sees now (None: everything); `subject`
    (a subject id or USCC): the reader reads only that subject's records."""
    if audience.kind == vis.OFFICE:
        return None
    pack, day = active_pack(), clock.today()
    if audience.kind == vis.PUBLIC:
        return vis.public_clause(pack, day)
    # Past the limit a record shows only while it restricts: ask the standings of the
    # subjects that have such records (of this subject only, when one is read).
    old_query = select(Record.id, Record.subject_id).where(vis.past_limit_clause(pack, day))
    if subject is not None:
        named = or_(Subject.id == subject, Subject.uscc == subject.upper())
        old_query = old_query.where(Record.subject_id.in_(select(Subject.id).where(named)))
    old = {row.id: row.subject_id for row in session.execute(old_query)}
    still = restricting(session, set(old.values())) & old.keys() if old else set()
    where = vis.consumer_clause(pack, day, still)
    if audience.department is not None:
        where = or_(Record.authority_uscc == audience.department, where)
    return where


def list_records_for(
    session: Session,
    audience: vis.Audience,
    *,
    subject: str | None,
    kind: str | None,
    status: str | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    """A page of the records this reader sees (`records.read.list_records`)."""
    return list_records(
        session, subject=subject, kind=kind, status=status, page=page, page_size=page_size,
        where=shown_clause(session, audience, subject),
    )  # fmt: skip
