"""PostgreSQL's planner statistics, refreshed by the writes that grow a table."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from credithub.db.engine import speed_of

# Rows this process has added to each table since it last analysed it.
_grown_since_analyze: dict[str, int] = {}
_ANALYZE_LOCK = 0x63686B616E6C7A  # the advisory lock of a transaction that analyses


def keep_statistics_fresh(session: Session, grown: Mapping[str, int]) -> None:
    """After a bulk write, refresh PostgreSQL's statistics of tables it grew a lot.

    Bulk lookups fetch a few hundred keys per query. On a young table (a first import) the
    planner's statistics still describe it as small and it picks plans that scan the whole
    table, so every batch is slower than the last (seen: 335 records/s instead of thousands).
    ANALYZE in the writing transaction counts the rows it has just inserted. Growth is
    counted across this process's writes since it last analysed a table, so many small writes
    (a push written in parts) count as much as one large one. With
    `database.analyze_after_growth` off, PostgreSQL's autovacuum alone refreshes them.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql" or not grown or not speed_of(bind).analyze_after_growth:
        return
    for name, added in grown.items():
        _grown_since_analyze[name] = _grown_since_analyze.get(name, 0) + added
    candidates = [name for name in grown if _grown_since_analyze[name] > 1000]
    if not candidates:
        return
    known: dict[str, float] = dict(
        session.execute(
            text("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:names)"),
            {"names": candidates},
        ).all()
    )
    # reltuples is -1 for a table never analysed. A table that has doubled gets plans for its
    # size; analysing more often (at a quarter more) cost a push on an empty hub about 40 µs a
    # record, each ANALYZE sampling up to 30,000 rows.
    due = [n for n in candidates if _grown_since_analyze[n] > max(float(known.get(n, -1)), 0.0)]
    # ANALYZE in a transaction holds its table's lock until the commit: two writers analysing
    # two tables in turn would deadlock. One writing transaction at a time analyses; the others
    # leave it to a later write (their counts stay).
    if not due or not session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ANALYZE_LOCK}
    ):
        return
    for name in due:
        session.execute(text(f"ANALYZE {name}"))  # names: the code's own tables
        _grown_since_analyze[name] = 0
