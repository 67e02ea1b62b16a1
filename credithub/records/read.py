"""Records as the API, the feed and the history show them, read by id or listed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from credithub.entities.models import Subject
from credithub.errors import NotFound
from credithub.records.models import Record, RecordChange, content_of
from credithub.records.prepare import today_in_china

_CHUNK = 400  # bound on IN-lists, well under every database's parameter limit
_COLUMNS = [c.key for c in Record.__table__.columns]
# What `to_output` reads of a record row: a reader that builds outputs only (the feed) reads
# no more. The other columns (kind, ref, authority, dates, code) are in `content` as well.
OUTPUT_COLUMNS = (
    "id", "content", "subject_id", "legal_rep_id", "domains", "severity", "publish_until",
    "status", "ends_on", "version", "origin_hub", "origin_id", "origin_version", "created_at",
    "updated_at", "revoked_at", "revoke_reason", "revoked_by",
)  # fmt: skip
# A version's times at this hub: what `to_output(times=False)` neither reads nor shows.
TIME_COLUMNS = ("created_at", "updated_at")


def subject_summaries(session: Session, ids: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    sorted_ids = sorted(ids)
    cols = (
        Subject.id,
        Subject.type,
        Subject.name,
        Subject.uscc,
        Subject.id_type,
        Subject.id_masked,
    )
    for i in range(0, len(sorted_ids), _CHUNK):
        for row in session.execute(select(*cols).where(Subject.id.in_(sorted_ids[i : i + _CHUNK]))):
            out[row.id] = {
                "id": row.id,
                "type": row.type,
                "name": row.name,
                "uscc": row.uscc,
                "id_type": row.id_type,
                "id_number": row.id_masked,
            }
    return out


def effective_status(row: dict[str, Any] | Record, today: date | None = None) -> str:
    """The status as read on `today`: an active record whose term has ended reads `expired`
    even before the expiry job has stored it (a stored `expired` stays expired); a disputed
    record reads `disputed` until its objection is decided (the expiry job leaves it so)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    status = str(get("status"))
    ends_on = get("ends_on")
    if (
        status == "active"
        and ends_on is not None
        and ends_on <= (today or today_in_china())  # ends_on is the first day it no longer runs
    ):
        return "expired"
    return status


def to_output(
    row: dict[str, Any],
    subjects: dict[str, dict[str, Any]],
    *,
    as_stored: bool = False,
    times: bool = True,
) -> dict[str, Any]:
    """The record as the API and the feed show it: content plus the state the hub keeps.

    The API shows the status as read today (`effective_status`); the feed and the history
    (`as_stored`) carry the status the record has at its version, so a peer stores what its
    origin stores, and an expiry reaches it as its own change. Without `times` (the feed,
    which does not carry a version's times at this hub) `created_at` and `updated_at` are
    neither read nor shown.
    """
    out: dict[str, Any] = {"id": row["id"], **content_of(row)}
    subject = dict(subjects[row["subject_id"]])
    # The name the record's decision states (a record stored before it was kept: the current).
    subject["name"] = (out.pop("subject", None) or subject)["name"]
    rep = out.pop("legal_rep", None)
    if rep is not None or row.get("legal_rep_id"):
        rep_summary = subjects.get(row.get("legal_rep_id") or "", {})
        subject["legal_rep"] = {
            "name": (rep or {}).get("name") or rep_summary.get("name"),
            "id_type": rep_summary.get("id_type"),
            "id_number": rep_summary.get("id_number"),
        }
    out.update(
        subject=subject,
        domains=row["domains"],
        severity=row["severity"],
        publish_until=row["publish_until"].isoformat() if row["publish_until"] else None,
        status=row["status"] if as_stored else effective_status(row),
        version=row["version"],
        origin={"hub": row["origin_hub"], "id": row["origin_id"], "version": row["origin_version"]},
        revoked=(
            {
                "at": row["revoked_at"].isoformat(),
                "reason": row["revoke_reason"],
                "by": row["revoked_by"],
            }
            if row["revoked_at"]
            else None
        ),
    )
    if times:
        out.update(
            created_at=row["created_at"].isoformat(), updated_at=row["updated_at"].isoformat()
        )
    return out


def record_row(record: Record) -> dict[str, Any]:
    return {c: getattr(record, c) for c in _COLUMNS}


def snapshots(
    session: Session, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """Each record row as its version is kept in history (for `changes.preserve`)."""
    ids = {r["subject_id"] for r in rows} | {r["legal_rep_id"] for r in rows if r["legal_rep_id"]}
    subjects = subject_summaries(session, ids)
    return {(r["id"], r["version"]): to_output(r, subjects, as_stored=True) for r in rows}


def get_record(session: Session, record_id: str, with_history: bool = True) -> dict[str, Any]:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}")
    row = record_row(record)
    out = to_output(
        row,
        subject_summaries(
            session, {record.subject_id} | ({record.legal_rep_id} if record.legal_rep_id else set())
        ),
    )
    if with_history:
        changes = session.execute(
            select(RecordChange)
            .where(RecordChange.record_id == record_id)
            .order_by(RecordChange.version)
        ).scalars()
        out["history"] = [
            {
                "version": c.version,
                "op": c.op,
                "at": c.at,
                "actor": c.actor,
                # No snapshot: the current version, which is the record itself.
                "record": c.snapshot if c.snapshot is not None else dict(out),
            }
            for c in changes
        ]
    return out


def list_records(
    session: Session,
    *,
    subject: str | None,
    kind: str | None,
    status: str | None,
    page: int,
    page_size: int,
    where: ColumnElement[bool] | None = None,
) -> dict[str, Any]:
    """A page of records, newest decision first; `where`: what the reader may see
    (records.visibility)."""
    query = select(Record) if where is None else select(Record).where(where)
    if subject:
        sid = session.scalar(
            select(Subject.id).where(or_(Subject.uscc == subject.upper(), Subject.id == subject))
        )
        query = query.where(Record.subject_id == (sid or "-"))
    if kind:
        query = query.where(Record.kind == kind)
    if status:
        today = today_in_china()
        live = or_(Record.ends_on.is_(None), Record.ends_on > today)
        if status == "expired":
            # Stored by the expiry job, or due and not yet reached by it.
            running = Record.status == "active"
            query = query.where(
                or_(Record.status == "expired", running & (Record.ends_on <= today))
            )
        elif status == "active":
            query = query.where(Record.status == status, live)
        else:
            query = query.where(Record.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    records = session.scalars(
        query.order_by(Record.decided_on.desc(), Record.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids = {r.subject_id for r in records} | {r.legal_rep_id for r in records if r.legal_rep_id}
    subjects = subject_summaries(session, ids)
    return {
        "items": [to_output(record_row(r), subjects) for r in records],
        "page": page,
        "page_size": page_size,
        "total": total,
    }
