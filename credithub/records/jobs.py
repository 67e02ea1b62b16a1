"""Periodic record work: store the expiry of this hub's records whose term has ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from credithub.db import db, utcnow
from credithub.records.expiry import due_records, expire

BATCH = 1000  # records per transaction: a large backlog never holds one long transaction


def expire_due(now: datetime | None = None) -> dict[str, Any]:
    """Expire every record of this hub whose term has ended by `now` (idempotent: a second
    run finds nothing). Each batch commits on its own."""
    now = now or utcnow()
    with db.transaction() as session:
        ids = due_records(session, now)
    expired = 0
    for start in range(0, len(ids), BATCH):
        with db.transaction() as session:
            expired += len(expire(session, ids[start : start + BATCH], now))
    return {"due": len(ids), "expired": expired}
