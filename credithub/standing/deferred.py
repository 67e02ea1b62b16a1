"""Standings settled once after a series of batches, rather than after each batch.

A series of batches (the pages of a pull, the parts of a push sent with `"more": true`) names
the same subjects again and again: each subject's standing, computed after every batch that
touches it, would read back all its records each time. Instead, a batch of a series marks the
standings it changes as due (`defer`): a stored standing so marked answers for no instant, so a
check in the meantime computes it on the spot from the records, as it does for any standing
that is not current (`standing.check`), and answers as it would after a refresh. The end of
the series refreshes each due subject once (`settle`); the rescore job settles whatever a
series left behind (a run that stopped, a client that never sent its last batch).

`ingest.defer_standings = false` refreshes after every batch, as any other write does.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from credithub.db import insert_ignoring, one_of, table_of
from credithub.standing.models import StandingDue, StandingRow
from credithub.standing.service import CHUNK, reached_persons, refresh, represented_by

_DUE, _STANDINGS = table_of(StandingDue), table_of(StandingRow)
SETTLE_CHUNK = 2000  # subjects refreshed together (the rescore job's part too)


def enabled() -> bool:
    """Whether a series may leave its standings to its end (`ingest.defer_standings`)."""
    return bool(current_app.extensions["credithub.settings"].ingest.defer_standings)


def defer(session: Session, subject_ids: Iterable[str]) -> None:
    """Mark these subjects' standings due, and those of the organizations they represent (an
    organization's standing carries its representative's listings), in the caller's
    transaction."""
    ids = sorted(set(subject_ids))
    if not ids:
        return
    stale = sorted(set(ids) | represented_by(session, ids) | reached_persons(session, ids))
    for start in range(0, len(stale), CHUNK):
        part = stale[start : start + CHUNK]
        # Valid until the instant it was computed: current for no instant (is_current).
        session.execute(
            update(_STANDINGS)
            .where(one_of(session, _STANDINGS.c.subject_id, part))
            .values(valid_until=_STANDINGS.c.computed_at)
        )
    session.execute(insert_ignoring(session, _DUE), [{"subject_id": sid} for sid in ids])


def settle(session: Session, limit: int = SETTLE_CHUNK) -> int:
    """Refresh the standings of up to `limit` due subjects in the caller's transaction, and
    list them due no more; how many were settled (fewer than `limit`: none is left)."""
    ids = list(session.scalars(select(_DUE.c.subject_id).order_by(_DUE.c.subject_id).limit(limit)))
    if ids:
        # Listed as due no more first: on PostgreSQL, a series marking one of them again
        # meanwhile waits for this transaction and then lists it again.
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            session.execute(delete(_DUE).where(one_of(session, _DUE.c.subject_id, part)))
        refresh(session, ids)
    return len(ids)


def settle_all(session: Session) -> int:
    """Refresh every due standing in the caller's transaction; how many."""
    total = 0
    while True:
        done = settle(session)
        total += done
        if done < SETTLE_CHUNK:
            return total
