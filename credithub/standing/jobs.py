"""Periodic standing work: recompute what time or a rule-pack change has made due."""

from __future__ import annotations

from typing import Any

from credithub.db import db, utcnow
from credithub.standing.service import due_subjects, refresh

BATCH = 2000


def rescore_due() -> dict[str, Any]:
    """Recompute the standings that are due (idempotent: nothing due, nothing done)."""
    now = utcnow()
    with db.transaction() as session:
        ids = due_subjects(session, now)
    for start in range(0, len(ids), BATCH):
        with db.transaction() as session:
            refresh(session, ids[start : start + BATCH], now=now)
    return {"subjects": len(ids)}
