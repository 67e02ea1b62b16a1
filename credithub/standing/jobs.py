"""Periodic standing work: recompute what time or a rule-pack change has made due."""

from __future__ import annotations

from typing import Any

from credithub.db import db, utcnow
from credithub.standing.deferred import SETTLE_CHUNK, settle
from credithub.standing.service import due_subjects, refresh

BATCH = SETTLE_CHUNK


def settle_due() -> int:
    """Refresh the standings series of batches left due (`standing.deferred`), a transaction
    per part; how many."""
    total = 0
    while True:
        with db.transaction() as session:
            done = settle(session)
        total += done
        if done < SETTLE_CHUNK:
            return total


def rescore_due() -> dict[str, Any]:
    """Recompute the standings that are due (idempotent: nothing due, nothing done): those a
    series left due, then those time or a rule-pack change made stale."""
    settled = settle_due()
    now = utcnow()
    with db.transaction() as session:
        ids = due_subjects(session, now)
    for start in range(0, len(ids), BATCH):
        with db.transaction() as session:
            refresh(session, ids[start : start + BATCH], now=now)
    return {"subjects": len(ids) + settled}
