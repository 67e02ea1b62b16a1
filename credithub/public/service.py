"""What the public sees of subjects: search and profile, by `records.visibility.public_sees`.

A subject shows only while it has a record the public sees: a person known to the hub only
through a record that is not (or no longer) published is not found at all. Persons'
identifiers are masked everywhere (`id_masked`), as in every answer of the hub.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub import clock
from credithub.db import utcnow
from credithub.entities.models import Subject
from credithub.entities.service import get_by_uscc, search_subjects
from credithub.errors import NotFound
from credithub.records import visibility as vis
from credithub.records.models import Record
from credithub.records.read import list_records, record_row
from credithub.rules import active_pack
from credithub.standing.service import standings_at

MAX_RECORDS = 500


def _with_public_records() -> Any:
    return Subject.id.in_(
        select(Record.subject_id).where(vis.public_clause(active_pack(), clock.today()))
    )


def search(session: Session, q: str, page: int, page_size: int) -> dict[str, Any]:
    """Subjects with a public record whose name (current or former) or code matches `q`."""
    items, total = search_subjects(
        session, q, page_size, (page - 1) * page_size, among=_with_public_records()
    )
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def public_profile(session: Session, uscc: str) -> dict[str, Any]:
    """Name, identifiers (masked), the public records and the restrictions behind them."""
    subject = get_by_uscc(session, uscc)
    pack, day = active_pack(), clock.today()
    where = vis.public_clause(pack, day)
    if subject is None:
        raise NotFound(f"no subject with USCC {uscc}")
    records = list_records(
        session, subject=subject.id, kind=None, status=None, page=1, page_size=MAX_RECORDS,
        where=where,
    )  # fmt: skip
    if not records["total"]:  # known to the hub, but nothing of it is public
        raise NotFound(f"no subject with USCC {uscc}")
    now = utcnow()
    standing = standings_at(session, [subject.id], now)[subject.id]
    cited = {r.record_id for r in standing.restrictions if r.record_id}
    public = {
        row.id
        for row in session.scalars(select(Record).where(Record.id.in_(sorted(cited))))
        if vis.public_sees(record_row(row), pack, day)
    }
    return {
        "type": subject.type,
        "name": subject.name,
        "uscc": subject.uscc,
        "id_type": subject.id_type,
        "id_masked": subject.id_masked,
        "names": subject.names,
        "records": records["items"],
        "records_total": records["total"],
        "restrictions": [r.to_dict() for r in standing.restrictions if r.record_id in public],
        "at": now.isoformat(),
    }
