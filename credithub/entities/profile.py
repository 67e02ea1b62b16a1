"""A subject's profile: who it is, its records, what restricts it now, and its score explained."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from credithub.db import utcnow
from credithub.entities.models import Subject
from credithub.records.audience import shown_clause
from credithub.records.service import list_records
from credithub.records.visibility import Audience
from credithub.standing.service import standings_at

MAX_RECORDS = 500
_IDENTITY = ("id", "type", "name", "uscc", "uscc_exception", "id_type", "id_masked",
             "all_identifiers", "names")  # fmt: skip


def profile(session: Session, subject: Subject, reader: Audience | None = None) -> dict[str, Any]:
    """The profile as `reader` sees it (None: the office, everything): a consumer's lists only
    the records that count (records.visibility)."""
    now = utcnow()
    standing = standings_at(session, [subject.id], now)[subject.id]
    where = None if reader is None else shown_clause(session, reader, subject.id)
    records = list_records(
        session, subject=subject.id, kind=None, status=None, page=1, page_size=MAX_RECORDS,
        where=where,
    )  # fmt: skip
    return {
        **{k: getattr(subject, k) for k in _IDENTITY},
        "records": records["items"],
        "records_total": records["total"],
        "restrictions": [r.to_dict() for r in standing.restrictions],
        "score": {
            "value": standing.score, "level": standing.level, "points": standing.points,
            "explanation": [
                {"record_id": line.record_id, "kind": line.kind, "ref": line.ref,
                 "amount": line.amount, "reason": line.reason}
                for line in standing.explanation
            ],
        },
        "at": now.isoformat(),
        "valid_until": standing.valid_until.isoformat() if standing.valid_until else None,
    }  # fmt: skip
