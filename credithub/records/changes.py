"""The change log: append record versions; positions are assigned in commit order.

A change row of the record's current version holds no snapshot: the record row is that
version. When a later version supersedes it, `preserve` stores the record as it was, so every
version stays readable while a new record costs one small change row, not a copy of itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from credithub.db import bulk_insert, locked_head, on_before_commit, table_of, tx_state
from credithub.records.models import ChangeHead, RecordChange

SEAL_ORDER = 10  # before the audit chain (20)
_PENDING = "changes_pending"


def log_change(
    session: Session,
    *,
    record_id: str,
    version: int,
    op: str,
    at: datetime,
    actor: str,
    origin_hub: str,
    signature: dict[str, str] | None = None,
) -> None:
    """Add a record version to the change log of the current transaction; `signature`: its
    origin's, for a version received from another hub (none: this hub signs it when served)."""
    pending: list[dict[str, Any]] = tx_state(session).setdefault(_PENDING, [])
    pending.append(
        {
            "record_id": record_id,
            "version": version,
            "op": op,
            "at": at,
            "actor": actor,
            "origin_hub": origin_hub,
            "snapshot": None,
            "signed_by": signature["key"] if signature else None,
            "signature": signature["value"] if signature else None,
        }
    )
    on_before_commit(session, seal, order=SEAL_ORDER)


def seal(session: Session) -> None:
    pending: list[dict[str, Any]] = tx_state(session).pop(_PENDING, [])
    if not pending:
        return
    head = reserve_positions(session, len(pending))
    for offset, row in enumerate(pending, start=1):
        row["position"] = head + offset
    bulk_insert(session, RecordChange, pending)


def reserve_positions(session: Session, count: int) -> int:
    """The last position taken before `count` new ones, which are now this transaction's.

    Positions are taken under the head row's lock, held until commit: a transaction that
    commits later always gets higher positions, so a feed reader can never skip a change.
    """
    head = int(locked_head(session, ChangeHead, position=0).position)
    session.execute(update(ChangeHead).where(ChangeHead.id == 1).values(position=head + count))
    return head


def preserve(session: Session, snapshots: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Store each record as it was at (record id, version), a version about to be superseded."""
    if not snapshots:
        return
    pending = {(c["record_id"], c["version"]): c for c in tx_state(session).get(_PENDING, [])}
    stored = []
    for key, snapshot in snapshots.items():
        if key in pending:  # logged earlier in this same transaction
            pending[key]["snapshot"] = snapshot
        else:
            stored.append({"b_record": key[0], "b_version": key[1], "b_snapshot": snapshot})
    if stored:
        table = table_of(RecordChange)
        session.execute(
            update(table)
            .where(
                table.c.record_id == bindparam("b_record"),
                table.c.version == bindparam("b_version"),
            )
            .values(snapshot=bindparam("b_snapshot")),
            stored,
        )


def last_position(session: Session) -> int:
    return session.scalar(select(ChangeHead.position).where(ChangeHead.id == 1)) or 0
