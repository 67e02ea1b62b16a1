"""Who watches which subject: written beside the check log, read when a verdict changes.

The check log keeps no subject index (each check would pay for it); this small table answers
"which clients checked this subject lately, in which domains" instead. Its rows are written by
the check log's own writer (`standing.checklog`: the buffered thread for single checks, the
request's transaction for batches), one upsert statement per write, deduplicated in memory
first: a subject checked a thousand times a day costs one row, updated at most once a flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, delete, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from credithub.db import table_of
from credithub.webhooks.models import Watch

_WATCHES = table_of(Watch)
_PG_UPSERT = text(
    "INSERT INTO watches (subject_key, client, domain, checked_at) "
    "SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:clients AS text[]), "
    "CAST(:domains AS text[]), CAST(:ats AS timestamptz[])) "
    "ON CONFLICT (subject_key, client, domain) DO UPDATE SET checked_at = excluded.checked_at "
    "WHERE watches.checked_at < excluded.checked_at"
)

# (subject key, client, domain) -> when last checked
Watches = Mapping[tuple[str, str, str], datetime]


def merge(into: dict[tuple[str, str, str], datetime], watches: Watches) -> None:
    """Add `watches` to `into`, keeping the later instant of each."""
    for key, at in watches.items():
        held = into.get(key)
        if held is None or held < at:
            into[key] = at


def record(conn: Connection, watches: Watches) -> None:
    """Upsert `watches` (a later check moves `checked_at` forward), in `conn`'s transaction.
    Rows go in key order: two writers upserting the same keys never wait on each other in a
    circle (PostgreSQL)."""
    if not watches:
        return
    if conn.dialect.name == "postgresql":
        # One statement over four arrays: an executemany of 10,000 upserts took 0.4 s.
        keys = sorted(watches)
        conn.execute(
            _PG_UPSERT,
            {
                "keys": [k[0] for k in keys],
                "clients": [k[1] for k in keys],
                "domains": [k[2] for k in keys],
                "ats": [watches[k] for k in keys],
            },
        )
        return
    stmt = sqlite_insert(_WATCHES)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_WATCHES.c.subject_key, _WATCHES.c.client, _WATCHES.c.domain],
        set_={"checked_at": stmt.excluded.checked_at},
        where=_WATCHES.c.checked_at < stmt.excluded.checked_at,
    )
    rows = [
        {"subject_key": key, "client": client, "domain": domain, "checked_at": at}
        for (key, client, domain), at in sorted(watches.items())
    ]
    conn.execute(stmt, rows)


def prune(session: Session, before: datetime) -> int:
    """Forget checks older than `before` (past `webhooks.watch_days`); how many rows."""
    result = session.execute(delete(_WATCHES).where(_WATCHES.c.checked_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
