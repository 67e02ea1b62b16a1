"""Find or create the subjects that parsed refs name, in bulk.

Lookups are batched: a 5,000-record push costs a handful of queries, not 5,000. A ref whose
identifiers name two different subjects is a conflict, never a merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from credithub.db import bulk_insert, new_id, one_of, utcnow
from credithub.entities.identifiers import mask_id_number
from credithub.entities.models import Subject, SubjectIdentifier, SubjectName
from credithub.entities.names import Names, note_known
from credithub.entities.parse import SubjectRef
from credithub.errors import Conflict
from credithub.privacy import personal_data


def _find_candidates(
    session: Session, refs: Sequence[SubjectRef]
) -> dict[tuple[str, str], Subject]:
    """Load every subject any of the refs' keys names, keyed by each of its keys."""
    usccs = {r.uscc for r in refs if r.uscc}
    hashes = {r.id_hash for r in refs if r.id_hash}
    aliases = {kv for r in refs for kv in r.legacy.items()}
    found: dict[tuple[str, str], Subject] = {}
    chunk = 500

    def index(subjects: Iterable[Subject]) -> None:
        for s in subjects:
            if s.uscc:
                found[("uscc", s.uscc)] = s
            if s.org_code:
                found[("org_code", s.org_code)] = s
            if s.id_hash:
                found[("id", s.id_hash)] = s
            for ident in s.identifiers:
                found[(ident.scheme, ident.value)] = s

    # First the ids of the subjects named (plain queries), then those subjects as objects: an
    # import's batch names mostly subjects the hub does not know, for which no object is built.
    ids: set[str] = set()
    org_codes = sorted(v for s, v in aliases if s == "org_code")
    by_column = (
        (sorted(usccs), Subject.uscc),
        (sorted(hashes), Subject.id_hash),
        (org_codes, Subject.org_code),
    )
    for values, column in by_column:
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            ids.update(session.scalars(select(Subject.id).where(one_of(session, column, part))))
    # By the (scheme, value) index: scheme equal, values in a list. (A row-value IN list would
    # scan the table on SQLite.)
    by_scheme: dict[str, list[str]] = {}
    for scheme, value in aliases:
        by_scheme.setdefault(scheme, []).append(value)
    for scheme, values in sorted(by_scheme.items()):
        values.sort()
        for i in range(0, len(values), chunk):
            named = select(SubjectIdentifier.subject_id).where(
                SubjectIdentifier.scheme == scheme,
                one_of(session, SubjectIdentifier.value, values[i : i + chunk]),
            )
            ids.update(session.scalars(named))
    base = select(Subject).options(selectinload(Subject.identifiers))
    known = sorted(ids)
    for i in range(0, len(known), chunk):
        index(session.scalars(base.where(one_of(session, Subject.id, known[i : i + chunk]))))
    return found


def _derived_org_code(ref: SubjectRef) -> str | None:
    """The organization code inside a (checksum-valid) USCC, kept as a column, not an alias."""
    return ref.uscc[8:17] if ref.uscc and not ref.uscc_exception else None


def _match(ref: SubjectRef, found: Mapping[tuple[str, str], Any]) -> Any:
    matches = {id(s): s for key in ref.lookup_keys() if (s := found.get(key)) is not None}
    if len(matches) > 1:
        names = ", ".join(sorted(s.name for s in matches.values()))
        raise Conflict(
            f"the identifiers sent name different subjects ({names})",
            {"subject": ["identifiers belong to different subjects"]},
        )
    return next(iter(matches.values()), None)


def find_subjects(session: Session, refs: Sequence[SubjectRef]) -> list[Subject | None]:
    """The known subject for each ref, or None; never creates."""
    found = _find_candidates(session, refs)
    return [_match(ref, found) for ref in refs]


@dataclass
class _New:
    """A subject created in this batch (inserted in bulk at the end)."""

    id: str
    ref: SubjectRef
    names: Names
    aliases: set[tuple[str, str]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.names.current


def ensure_subjects(
    session: Session, refs: Sequence[SubjectRef], as_of: Sequence[date]
) -> list[str]:
    """Find or create the subject of each ref; return their ids. Raises on a conflict."""
    result = ensure_subjects_collect(session, refs, as_of)
    for item in result:
        if isinstance(item, Conflict):
            raise item
    return [str(i) for i in result]


def ensure_subjects_collect(
    session: Session,
    refs: Sequence[SubjectRef],
    as_of: Sequence[date],
    created: set[str] | None = None,
    new_ids: Sequence[str] | None = None,
) -> list[str | Conflict]:
    """Find or create the subject of each ref, adding the aliases and names it brings.

    `as_of` is the date each ref was true (the record's decision date): the name on the latest
    decision is the subject's current name, the others its former names (`names`), so a
    late-arriving old record does not overwrite a newer name. A ref whose identifiers name two
    different subjects gets a Conflict in its place; the others go ahead. New subjects are
    inserted in bulk: this is the hot path of every import. `new_ids`: the id each ref's
    subject gets if it is created from that ref (made beforehand, see
    records.prepare.Prepared); by default a new one.
    """
    found: dict[tuple[str, str], Any] = dict(_find_candidates(session, refs))
    new: list[_New] = []
    known: dict[str, Subject] = {}
    stated: dict[str, list[tuple[str, date]]] = {}  # names stated for known subjects
    result: list[str | Conflict] = []
    made_ids: Sequence[str | None] = [None] * len(refs) if new_ids is None else new_ids
    for ref, when, made in zip(refs, as_of, made_ids, strict=True):
        try:
            subject = _match(ref, found)
        except Conflict as exc:
            result.append(exc)
            continue
        if subject is None:
            subject = _New(made or new_id(), ref, Names.first(ref.name, when))
            subject.aliases.update(ref.legacy.items())
            new.append(subject)
        elif isinstance(subject, _New):
            subject.aliases.update(ref.legacy.items())
            subject.names.note(ref.name, when)
        else:
            _enrich(subject, ref)
            known[subject.id] = subject
            stated.setdefault(subject.id, []).append((ref.name, when))
        for key in ref.lookup_keys():
            found[key] = subject
        result.append(subject.id)
    if stated:
        note_known(session, known, stated)
    if new:
        _insert_new(session, new)
        if created is not None:
            created.update(n.id for n in new)
    session.flush()
    return result


def _insert_new(session: Session, created: Sequence[_New]) -> None:
    pd = personal_data()
    now = utcnow()
    subjects: list[dict[str, Any]] = []
    aliases: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    for new in created:
        ref = new.ref
        row: dict[str, Any] = {
            "id": new.id,
            "type": ref.type,
            "name": new.name,
            "uscc": ref.uscc,
            "uscc_exception": ref.uscc_exception,
            "id_type": None,
            "id_hash": None,
            "id_cipher": None,
            "id_masked": None,
            "org_code": _derived_org_code(ref),
            "created_at": now,
            "updated_at": now,
        }
        if ref.id_number:
            row.update(
                id_type=ref.id_type,
                id_hash=ref.id_hash,
                id_cipher=pd.encrypt(ref.id_number, ref.id_type or ""),
                id_masked=mask_id_number(ref.id_number),
            )
        subjects.append(row)
        derived = ("org_code", row["org_code"])
        aliases.extend(
            {"subject_id": new.id, "scheme": s, "value": v}
            for s, v in sorted(new.aliases)
            if (s, v) != derived
        )
        names.extend(new.names.rows(new.id))
    bulk_insert(session, Subject, subjects)
    if aliases:
        bulk_insert(session, SubjectIdentifier, aliases)
    bulk_insert(session, SubjectName, names)


def _enrich(subject: Subject, ref: SubjectRef) -> None:
    """A known subject gains the USCC and legacy codes a ref brings (names: `names`)."""
    if ref.uscc and not subject.uscc:
        subject.uscc, subject.uscc_exception = ref.uscc, ref.uscc_exception
        subject.org_code = _derived_org_code(ref)
    have = {(i.scheme, i.value) for i in subject.identifiers}
    if subject.org_code:
        have.add(("org_code", subject.org_code))
    for scheme, value in sorted(ref.legacy.items()):
        if (scheme, value) not in have:
            subject.identifiers.append(SubjectIdentifier(scheme=scheme, value=value))
