"""Expiry: a record of this hub whose term has ended becomes `expired`, as a change of its own.

A record stops counting by itself on its `ends_on` (the standing computation reads the dates),
but other hubs learn that a restriction was lifted only from a change in the feed. So the
expiry job stores it: for every record created here that is still `active` and whose `ends_on`
has come, a new version with status `expired` (its previous
version kept in history), an `expire` entry in the change log that peers read and push, the
subjects' standings refreshed, and one audit entry for the batch. Records that came from a
peer are left to their origin, which sends their expiry; their dates already make them
inactive here meanwhile. A disputed record keeps its dispute: it is left to the objection's
decision (credithub.workflows), after which a record back to `active` is expired by the next
run; its dates already make it stop counting meanwhile.

Services flush; the caller commits. `credithub.records.jobs.expire_due` runs the batches, one
transaction each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from credithub import audit, clock
from credithub.db import keep_statistics_fresh, new_id, table_of
from credithub.records.changes import log_change, preserve
from credithub.records.digest import stored_content_digest, version_digest
from credithub.records.models import Record
from credithub.records.service import hub_id, snapshots
from credithub.standing import service as standing

RUNNING = ("active",)  # a disputed record keeps its dispute until it is decided
ACTOR = "job:expire"
IN_LIST = 400  # ids per query, well under every database's parameter limit


china_day = clock.china_day  # terms end on China dates


def due_records(session: Session, now: datetime) -> list[str]:
    """Ids of this hub's running records whose term has ended by `now` (ends_on, a China date,
    is the first day a record no longer runs), oldest end first."""
    query = (
        select(Record.id)
        .where(
            Record.origin_hub == hub_id(),
            Record.status.in_(RUNNING),
            Record.ends_on <= china_day(now),
        )
        .order_by(Record.ends_on, Record.id)
    )
    return [str(rid) for rid in session.scalars(query)]


def expire(
    session: Session, record_ids: Sequence[str], now: datetime, actor: str = ACTOR
) -> list[tuple[str, int]]:
    """Expire those of these records that are still due at `now`, in the caller's transaction.

    Each is read again under a row lock, so a record revoked or corrected since it was found
    due is left as it is. Returns (id, new version) of each record expired.
    """
    if not record_ids:
        return []
    table, local, today = table_of(Record), hub_id(), china_day(now)
    ids = sorted(set(record_ids))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), IN_LIST):
        query = (
            table.select()
            .where(
                table.c.id.in_(ids[start : start + IN_LIST]),
                table.c.origin_hub == local,
                table.c.status.in_(RUNNING),
                table.c.ends_on <= today,
            )
            .order_by(table.c.id)
            .with_for_update()
        )
        rows.extend(dict(row) for row in session.execute(query).mappings())
    if not rows:
        return []
    preserve(session, snapshots(session, rows))
    changes: list[dict[str, Any]] = []
    for row in rows:
        changes.append(
            {
                "id": row["id"],
                "status": "expired",
                "version": row["version"] + 1,
                "origin_version": row["origin_version"] + 1,
                "updated_at": now,
            }
        )
        log_change(
            session,
            record_id=row["id"],
            version=row["version"] + 1,
            op="expire",
            at=now,
            actor=actor,
            origin_hub=row["origin_hub"],
        )
    session.execute(update(Record), changes)
    # One entry per batch, naming every record with its new version, content digest and
    # version digest (`records.digest`).
    named = []
    for row, change in zip(rows, changes, strict=True):
        digest = version_digest({**row, **change}, stored_content_digest(row))
        named.append([row["id"], change["version"], "expired", row["content_hash"], digest])
    audit.record(session, actor, "records.expire", "batch", new_id(), {"changes": named})
    standing.refresh(session, {r["subject_id"] for r in rows}, now=now)
    keep_statistics_fresh(session, {"record_changes": len(rows)})
    return [(c["id"], c["version"]) for c in changes]
