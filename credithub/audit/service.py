"""Write and verify the audit chain.

Entries are collected during a transaction and sealed just before it commits: the head row is
locked, each entry gets the next sequence number and a hash over the previous hash and its own
content, and all are inserted in one statement. Concurrent writers therefore queue only for the
short sealing step, and the chain order is the commit order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from credithub.audit.models import AuditEntry, AuditHead
from credithub.db import (
    after_outcome,
    bulk_insert,
    canonical_json,
    locked_head,
    on_before_commit,
    tx_state,
    utcnow,
)

GENESIS = "0" * 64
SEAL_ORDER = 20  # after the change log (10): locks are always taken in this order
_PENDING = "audit_pending"


def canonical(data: Any) -> str:
    return canonical_json(data).decode()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    change_digest: str,
) -> str:
    return _digest(
        canonical([prev_hash, seq, at, actor, action, object_type, object_id, change_digest])
    )


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction; it is chained when the transaction commits."""
    pending: list[dict[str, Any]] = tx_state(session).setdefault(_PENDING, [])
    pending.append(
        {
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "detail": canonical(detail or {}),
        }
    )
    on_before_commit(session, seal, order=SEAL_ORDER)


def record_refusal(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a refused attempt: kept even when the request that made it is rolled back."""
    after_outcome(session, lambda s: record(s, actor, action, object_type, object_id, detail))


def seal(session: Session) -> None:
    pending: list[dict[str, Any]] = tx_state(session).pop(_PENDING, [])
    if not pending:
        return
    head = locked_head(session, AuditHead, seq=0, hash=GENESIS)
    seq, prev = head.seq, head.hash
    now = utcnow()
    at = now.isoformat()
    rows = []
    for item in pending:
        seq += 1
        change_digest = _digest(item["detail"])
        prev = entry_hash(
            prev,
            seq,
            at,
            item["actor"],
            item["action"],
            item["object_type"],
            item["object_id"],
            change_digest,
        )
        rows.append({**item, "seq": seq, "at": now, "change_digest": change_digest, "hash": prev})
    for i, row in enumerate(rows):
        row["prev_hash"] = rows[i - 1]["hash"] if i else head.hash
    bulk_insert(session, AuditEntry, rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    session.expire(head)


def entries(
    session: Session, action: str, page: int, page_size: int, actor: str | None = None
) -> tuple[list[AuditEntry], int]:
    """The entries of one action (and one actor), newest first: a page and the total."""
    query = select(AuditEntry).where(AuditEntry.action == action)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(
        query.order_by(AuditEntry.seq.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return list(found), total


@dataclass
class VerifyResult:
    entries: int
    head_hash: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _iter_entries(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        chunk = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > last)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq
        session.expunge_all()


def verify(
    session: Session,
    max_problems: int = 20,
    visit: Callable[[AuditEntry], None] | None = None,
) -> VerifyResult:
    """Recompute the whole chain; every break (edited, removed or inserted entry) is a problem.
    `visit` sees each entry in chain order (`records.audited` collects the versions named)."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in _iter_entries(session):
        count += 1
        if visit is not None:
            visit(entry)
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq}: missing (next entry found is {entry.seq})")
            expected_seq = entry.seq
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not link to the entry before it")
        if _digest(entry.detail) != entry.change_digest:
            problems.append(f"entry {entry.seq}: its recorded change was altered")
        recomputed = entry_hash(
            entry.prev_hash,
            entry.seq,
            entry.at.isoformat(),
            entry.actor,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.change_digest,
        )
        if recomputed != entry.hash:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        prev, expected_seq = entry.hash, expected_seq + 1
        if len(problems) >= max_problems:
            break
    head = session.get(AuditHead, 1)
    if len(problems) < max_problems:
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        if head_seq != count or head_hash != prev:
            problems.append(
                f"chain head says {head_seq} entries ending {head_hash[:12]}…, "
                f"found {count} ending {prev[:12]}…"
            )
    return VerifyResult(entries=count, head_hash=prev, problems=problems)
