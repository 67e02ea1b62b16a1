"""What this hub holds, told so a partner can compare: per origin hub and month of decision,
the count and a digest of the records' (origin, id at origin, version at origin); the keys of
one such cell; and records fetched by their origin key, as the feed has them.

A cell is keyed by the month of the record's decision date (`decided_on`), not of the change
that brought it: the decision date is part of the record and the same at every hub, while the
time a hub took in a change is its own. A cell's digest is sha256 (hex) of its lines
"origin|id|version", sorted by code point, each ending in a newline (UTF-8): sorted here, not
by the database, whose collation may order text otherwise.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from credithub.db import one_of, table_of
from credithub.records.models import Record, RecordChange
from credithub.sync.feed import build_items, feed_columns

_RECORDS = table_of(Record)
_CHANGES = table_of(RecordChange)
_CHUNK = 500


def digest(lines: Iterable[str]) -> str:
    """The digest of a cell's lines "origin|id|version" (in any order)."""
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


def line(origin: str, record_id: str, version: int) -> str:
    return f"{origin}|{record_id}|{version}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """The first day of `month` (YYYY-MM) and of the month after it."""
    year, number = int(month[:4]), int(month[5:7])
    start = date(year, number, 1)
    end = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return start, end


def cells(session: Session, origin: str | None = None) -> list[dict[str, Any]]:
    """Every (origin hub, month) cell this hub holds records in: count and digest, sorted.
    One query over the records' origin columns (one index holds them all: 0009)."""
    r = _RECORDS.c
    query = select(r.origin_hub, r.decided_on, r.origin_id, r.origin_version)
    if origin is not None:
        query = query.where(r.origin_hub == origin)
    lines: dict[tuple[str, str], list[str]] = defaultdict(list)
    for hub, decided, record_id, version in session.execute(query):
        lines[(hub, month_of(decided))].append(line(hub, record_id, version))
    return [
        {"origin": hub, "month": month, "count": len(found), "digest": digest(found)}
        for (hub, month), found in sorted(lines.items())
    ]


def cell(
    session: Session, origin: str, month: str, after: str = "", limit: int | None = None
) -> dict[str, Any]:
    """The (id, version) at origin of the records of one cell, by id, after `after`; `limit`
    None: all of them."""
    r = _RECORDS.c
    start, end = month_bounds(month)
    query = select(r.origin_id, r.origin_version).where(
        r.origin_hub == origin, r.decided_on >= start, r.decided_on < end
    )
    if after:
        query = query.where(r.origin_id > after)
    query = query.order_by(r.origin_id)
    rows = session.execute(query if limit is None else query.limit(limit + 1)).all()
    has_more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    items = [{"id": record_id, "version": version} for record_id, version in rows]
    return {
        "origin": origin,
        "month": month,
        "items": items,
        "next": items[-1]["id"] if items else after,
        "has_more": has_more,
    }


def current(session: Session, keys: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The records held under these origin keys (origin hub, id at origin), each at its
    current version as a feed item (`feed.build_items`, so exactly what the feed serves), in
    change-log order; and the keys not held."""
    r, c = _RECORDS.c, _CHANGES.c
    by_origin: dict[str, list[str]] = defaultdict(list)
    for hub, record_id in dict.fromkeys(keys):
        by_origin[hub].append(record_id)
    rows = []
    found: set[tuple[str, str]] = set()
    for hub, ids in sorted(by_origin.items()):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = (
                select(*feed_columns(), r.origin_id)
                .join(_RECORDS, and_(r.id == c.record_id, r.version == c.version))
                .where(r.origin_hub == hub, one_of(session, r.origin_id, chunk))
            )
            for row in session.execute(query):
                rows.append(row)
                found.add((hub, row.origin_id))
    rows.sort(key=lambda row: row.position)
    missing = [{"origin": h, "id": i} for h, i in dict.fromkeys(keys) if (h, i) not in found]
    return {"items": build_items(session, rows), "missing": missing}
