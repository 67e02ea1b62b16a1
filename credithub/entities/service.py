"""Who is this? The subjects' service: parse what a message says about a subject, find or
create it, and search subjects by name or code.

Every path that names a subject (a department's push, a file import, a peer's record, a check)
goes through `parse_subject` (`entities.parse`) and `ensure_subjects` / `find_subjects`
(`entities.resolve`), so one set of rules decides identity; `entities.names` decides which of a
subject's names is current.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

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

__all__ = [
    "BUNDLED_EXCEPTIONS",
    "ID_TYPES",
    "SubjectRef",
    "ensure_subjects",
    "ensure_subjects_collect",
    "find_subjects",
    "get_by_uscc",
    "load_allow_list",
    "parse_subject",
    "ref_for_uscc",
    "search_subjects",
    "uscc_allow_list",
]


def search_subjects(session: Session, q: str, limit: int, offset: int) -> tuple[list[Subject], int]:
    """Subjects whose code, alias, or current or former name matches `q`."""
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
    where = or_(*conditions)
    total = session.scalar(select(func.count()).select_from(Subject).where(where)) or 0
    items = session.scalars(
        select(Subject).where(where).order_by(Subject.name, Subject.id).limit(limit).offset(offset)
    ).all()
    return list(items), total


def get_by_uscc(session: Session, uscc: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.uscc == uscc))
