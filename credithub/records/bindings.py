"""Which origin hub each authority belongs to (`authority_origins`), read and bound per batch.

An authority belongs to the first origin hub seen for it: a record created at this hub binds
its authority to this hub, a peer's record to its origin. Bindings never change. The writer
reads those of a batch's authorities in one query (`read`) and binds the new ones in the same
transaction as the records that bind them (`bind`); `records.decide.unbound` decides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.db import insert_ignoring, one_of, table_of
from credithub.errors import Unavailable
from credithub.records.models import AuthorityOrigin

_CHUNK = 400  # a batch names few authorities; bounds an IN list all the same


def read(session: Session, authorities: Collection[str]) -> dict[str, str]:
    """The origin hub each of `authorities` is bound to (those bound)."""
    table = table_of(AuthorityOrigin)
    ordered = sorted(authorities)
    found: dict[str, str] = {}
    for i in range(0, len(ordered), _CHUNK):
        query = select(table.c.authority_uscc, table.c.origin_hub).where(
            one_of(session, table.c.authority_uscc, ordered[i : i + _CHUNK])
        )
        found.update((a, h) for a, h in session.execute(query))
    return found


def bind(session: Session, bound: Mapping[str, str], at: datetime) -> None:
    """Bind each authority of `bound` to its origin hub, in the caller's transaction.

    Two transactions may bind the same authority at once (PostgreSQL): the second's insert
    waits for the first's commit and then inserts nothing; if the first bound it to another
    hub, the second batch was decided on a binding that does not hold, so it fails, to be sent
    again (503), and is then decided on the binding that holds."""
    if not bound:
        return
    table = table_of(AuthorityOrigin)
    rows = [{"authority_uscc": a, "origin_hub": h, "bound_at": at} for a, h in bound.items()]
    session.execute(insert_ignoring(session, table), rows)
    held = read(session, bound)
    moved = sorted(a for a, hub in bound.items() if held.get(a) != hub)
    if moved:
        raise Unavailable(
            f"authority {', '.join(moved[:5])} was bound to another hub meanwhile; send again",
            {"authority.uscc": ["bound meanwhile: send again"]},
        )
