"""A subject's names: the one its latest decision states is current, the others are former.

A record keeps the name its decision states (in its content); the subject keeps every name it
has been stated under, each with the first and last decision dates that stated it, so a former
name still finds it. Records arrive in any order (a file of old decisions after a newer push):
a name becomes current only when stated on a date no earlier than the last date the current
name was stated on, and on the same date the later arrival wins (a corrected record). An older
decision's name never displaces a newer one, and nothing here touches records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from credithub.db import as_date, bulk_insert, date_as_read, one_of, table_of
from credithub.entities.models import SubjectName

_CHUNK = 400


@dataclass
class Names:
    """A subject's names with the span of decision dates that stated each, and the current one."""

    current: str
    seen: dict[str, list[date]]  # name -> [first stated on, last stated on]

    @classmethod
    def first(cls, name: str, when: date) -> Names:
        return cls(name, {name: [when, when]})

    def note(self, name: str, when: date) -> None:
        """A decision dated `when` states `name`."""
        span = self.seen.setdefault(name, [when, when])
        span[0], span[1] = min(span[0], when), max(span[1], when)
        current = self.seen.get(self.current)
        if current is None or when >= current[1]:
            self.current = name

    def rows(self, subject_id: str) -> list[dict[str, Any]]:
        """The `subject_names` rows of a subject that has none yet."""
        return [
            {"subject_id": subject_id, "name": name, "first_seen": first, "last_seen": last}
            for name, (first, last) in self.seen.items()
        ]


class Named(Protocol):
    name: str  # the current name


def note_known(
    session: Session,
    subjects: Mapping[str, Named],
    stated: Mapping[str, Sequence[tuple[str, date]]],
) -> list[str]:
    """Apply the names a batch states, in arrival order, to subjects the hub already holds.

    Reads the subjects' names as plain rows (one query per few hundred subjects), then writes
    only the spans that widened and the names not seen before; a changed current name is set
    on the subject (`name`), whose id is returned for the caller to write.
    """
    renamed: list[str] = []
    ids = sorted(stated)
    held: dict[str, dict[str, tuple[int, date, date]]] = {}
    # Plain rows, the dates as the driver gives them, parsed here (SQLite: ISO text).
    table = table_of(SubjectName)
    spans = (date_as_read(table.c.first_seen), date_as_read(table.c.last_seen))
    cols = (table.c.id, table.c.subject_id, table.c.name, *spans)
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        for id_, sid, name, first, last in session.execute(
            select(*cols).where(one_of(session, table.c.subject_id, part))
        ):
            held.setdefault(sid, {})[name] = (id_, as_date(first), as_date(last))
    widened: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for sid in ids:
        subject, rows = subjects[sid], held.get(sid, {})
        names = Names(subject.name, {n: [first, last] for n, (_, first, last) in rows.items()})
        for name, when in stated[sid]:
            names.note(name, when)
        for name, (first, last) in names.seen.items():
            had = rows.get(name)
            if had is None:
                added.append(
                    {"subject_id": sid, "name": name, "first_seen": first, "last_seen": last}
                )
            elif (first, last) != had[1:]:
                widened.append({"row_id": had[0], "first": first, "last": last})
        if names.current != subject.name:
            subject.name = names.current
            renamed.append(sid)
    if widened:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(first_seen=bindparam("first"), last_seen=bindparam("last")),
            widened,
        )
    if added:
        bulk_insert(session, SubjectName, added)
    return renamed
