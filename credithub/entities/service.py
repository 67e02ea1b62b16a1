"""Who is this? The subjects' service: parse what a message says about a subject, find or
create it, and search subjects by name or code.

Every path that names a subject (a department's push, a file import, a peer's record, a check)
goes through `parse_subject` (`entities.parse`) and `ensure_subjects` / `find_subjects`
(`entities.resolve`), so one set of rules decides identity; `entities.names` decides which of a
subject's names is current.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from credithub.db import table_of
from credithub.entities.identifiers import normalize
from credithub.entities.models import Subject, SubjectIdentifier, SubjectName
from credithub.entities.parse import (
    BUNDLED_EXCEPTIONS,
    ID_TYPES,
    SubjectRef,
    load_allow_list,
    parse_subject,
    ref_for_uscc,
    uscc_allow_list,
)
from credithub.entities.resolve import ensure_subjects, ensure_subjects_collect, find_subjects
from credithub.privacy import personal_data

__all__ = [
    "BUNDLED_EXCEPTIONS",
    "ID_TYPES",
    "SubjectRef",
    "ensure_subjects",
    "ensure_subjects_collect",
    "fill_federation_hashes",
    "find_subjects",
    "get_by_uscc",
    "load_allow_list",
    "parse_subject",
    "ref_for_uscc",
    "search_subjects",
    "uscc_allow_list",
]


def search_subjects(
    session: Session, q: str, limit: int, offset: int, among: ColumnElement[bool] | None = None
) -> tuple[list[Subject], int]:
    """Subjects whose code, alias, or current or former name matches `q` (and `among`)."""
    text = " ".join(q.split())
    code = normalize(text)
    conditions = [
        Subject.uscc == code,
        Subject.org_code == code,
        Subject.id.in_(select(SubjectIdentifier.subject_id).where(SubjectIdentifier.value == code)),
    ]
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            Subject.id.in_(
                select(SubjectName.subject_id).where(SubjectName.name.like(like, escape="\\"))
            )
        )
    where = or_(*conditions) if among is None else and_(or_(*conditions), among)
    total = session.scalar(select(func.count()).select_from(Subject).where(where)) or 0
    items = session.scalars(
        select(Subject).where(where).order_by(Subject.name, Subject.id).limit(limit).offset(offset)
    ).all()
    return list(items), total


def get_by_uscc(session: Session, uscc: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.uscc == uscc))


_FILL_CHUNK = 1000


def fill_federation_hashes(session: Session) -> int:
    """Give every person whose number this hub holds its federation hash under the configured
    matching key (`credithub init-db`): those held before the hash existed (migration 0006,
    which has no keys), and all of them again when the key has changed (one person's hash,
    made again, tells). Persons received from peers keep the hash they came with. Returns how
    many persons' hashes were written."""
    pd = personal_data()
    table = table_of(Subject)
    s = table.c

    def made(row: Any) -> str:
        scheme = row.id_type or ""
        return pd.federation_hash(scheme, pd.decrypt(row.id_cipher, scheme))

    query = select(s.id, s.id_type, s.id_cipher, s.fed_hash).where(s.id_cipher.is_not(None))
    sample = session.execute(query.where(s.fed_hash.is_not(None)).limit(1)).first()
    if sample is None or made(sample) == sample.fed_hash:
        query = query.where(s.fed_hash.is_(None))  # the key is the one they were made with
    statement = (
        update(table).where(s.id == bindparam("b_id")).values(fed_hash=bindparam("b_fed_hash"))
    )
    written, after = 0, ""
    while True:
        rows = session.execute(query.where(s.id > after).order_by(s.id).limit(_FILL_CHUNK)).all()
        if not rows:
            return written
        changed = [{"b_id": r.id, "b_fed_hash": h} for r in rows if (h := made(r)) != r.fed_hash]
        if changed:
            session.execute(statement, changed)
        written += len(changed)
        after = rows[-1].id
