"""Find or create the subjects that parsed refs name, in bulk.

Lookups are batched: a 5,000-record push costs a handful of queries, not 5,000. A ref whose
identifiers name two different subjects is a conflict, never a merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from credithub.db import bulk_insert, new_id, one_of, table_of, utcnow
from credithub.entities.identifiers import mask_id_number
from credithub.entities.models import Subject, SubjectIdentifier, SubjectName
from credithub.entities.names import Names, note_known
from credithub.entities.parse import SubjectRef
from credithub.errors import Conflict
from credithub.privacy import personal_data


@dataclass
class Known:
    """A subject the hub already holds, as plain values (no ORM object is built)."""

    id: str
    name: str
    type: str
    uscc: str | None
    uscc_exception: bool
    org_code: str | None
    id_hash: str | None
    fed_hash: str | None
    identifiers: set[tuple[str, str]]  # its legacy aliases (scheme, value)


_SUBJECTS = table_of(Subject)
_ALIASES = table_of(SubjectIdentifier)
_CHUNK = 500
_KNOWN_COLUMNS = (
    "id", "name", "type", "uscc", "uscc_exception", "org_code", "id_hash", "fed_hash",
)  # fmt: skip


def _find_candidates(session: Session, refs: Sequence[SubjectRef]) -> dict[tuple[str, str], Known]:
    """Load every subject any of the refs' keys names, keyed by each of its keys."""
    usccs = {r.uscc for r in refs if r.uscc}
    hashes = {r.id_hash for r in refs if r.id_hash}
    fed_hashes = {r.fed_hash for r in refs if r.fed_hash}
    aliases = {kv for r in refs for kv in r.legacy.items()}
    # The subjects named by a column of their own, read whole; then the ids named by an alias
    # (by the (scheme, value) index: scheme equal, values in a list; a row-value IN list would
    # scan the table on SQLite), read whole if not read yet; then the aliases of them all.
    # An import's batch names mostly subjects the hub does not know: nothing more is read.
    known: dict[str, Known] = {}
    columns = [_SUBJECTS.c[c] for c in _KNOWN_COLUMNS]
    org_codes = sorted(v for s, v in aliases if s == "org_code")
    by_column = (
        (sorted(usccs), _SUBJECTS.c.uscc),
        (sorted(hashes), _SUBJECTS.c.id_hash),
        (sorted(fed_hashes), _SUBJECTS.c.fed_hash),
        (org_codes, _SUBJECTS.c.org_code),
    )

    def read(values: Sequence[str], column: Any) -> None:
        for part in _chunks(values):
            query = select(*columns).where(one_of(session, column, part))
            for id_, name, type_, uscc, exception, org_code, id_hash, fed_hash in session.execute(
                query
            ):  # plain tuples, in _KNOWN_COLUMNS order
                if id_ not in known:
                    known[id_] = Known(
                        id_, name, type_, uscc, exception, org_code, id_hash, fed_hash, set()
                    )

    for values, column in by_column:
        read(values, column)
    by_scheme: dict[str, list[str]] = {}
    for scheme, value in aliases:
        by_scheme.setdefault(scheme, []).append(value)
    ids: set[str] = set()
    for scheme, values in sorted(by_scheme.items()):
        for part in _chunks(sorted(values)):
            named = select(_ALIASES.c.subject_id).where(
                _ALIASES.c.scheme == scheme, one_of(session, _ALIASES.c.value, part)
            )
            ids.update(session.scalars(named))
    read(sorted(ids - known.keys()), _SUBJECTS.c.id)
    for part in _chunks(sorted(known)):
        alias_rows = select(_ALIASES.c.subject_id, _ALIASES.c.scheme, _ALIASES.c.value).where(
            one_of(session, _ALIASES.c.subject_id, part)
        )
        for sid, scheme, value in session.execute(alias_rows):
            known[sid].identifiers.add((scheme, value))
    found: dict[tuple[str, str], Known] = {}
    for s in known.values():
        if s.uscc:
            found[("uscc", s.uscc)] = s
        if s.org_code:
            found[("org_code", s.org_code)] = s
        if s.id_hash:
            found[("id", s.id_hash)] = s
        if s.fed_hash:
            found[("fed", s.fed_hash)] = s
        for key in s.identifiers:
            found[key] = s
    return found


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


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


def find_subjects(session: Session, refs: Sequence[SubjectRef]) -> list[Known | None]:
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
    new_ids: Sequence[str | None] | None = None,
    renamed: set[str] | None = None,
    created: set[str] | None = None,
) -> list[str | Conflict]:
    """Find or create the subject of each ref, adding the aliases and names it brings.

    `as_of` is the date each ref was true (the record's decision date): the name on the latest
    decision is the subject's current name, the others its former names (`names`), so a
    late-arriving old record does not overwrite a newer name. A ref whose identifiers name two
    different subjects gets a Conflict in its place; the others go ahead. New subjects are
    inserted in bulk: this is the hot path of every import. `new_ids`: the id each ref's
    subject gets if it is created from that ref (made beforehand, see
    records.normal_form.Prepared); by default a new one. `renamed` gains the subjects already
    held whose current name changed, `created` the subjects created.
    """
    found: dict[tuple[str, str], Any] = dict(_find_candidates(session, refs))
    new: list[_New] = []
    known: dict[str, Known] = {}
    stated: dict[str, list[tuple[str, date]]] = {}  # names stated for known subjects
    changed: dict[str, Known] = {}  # known subjects whose columns change
    identified: dict[str, SubjectRef] = {}  # known persons gaining a number or its hash
    aliases: list[dict[str, Any]] = []  # aliases known subjects gain
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
            if ref.id_number and not subject.ref.id_number:
                subject.ref = ref  # first named by a peer's hash, now with the number
        else:
            if _enrich(subject, ref, aliases):
                changed[subject.id] = subject
            if _identified(subject, ref):
                identified[subject.id] = ref
            known[subject.id] = subject
            stated.setdefault(subject.id, []).append((ref.name, when))
        for key in ref.lookup_keys():
            found[key] = subject
        result.append(subject.id)
    if stated:
        names_changed = note_known(session, known, stated)
        changed.update((sid, known[sid]) for sid in names_changed)
        if renamed is not None:
            renamed.update(names_changed)
    if changed:
        _update_known(session, changed.values())
    if identified:
        _update_identity(session, identified)
    if aliases:
        bulk_insert(session, SubjectIdentifier, aliases)
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
            "fed_hash": ref.fed_hash,
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
        elif ref.fed_hash:  # a person a peer named by hash: what it sent, no number here
            row.update(id_type=ref.id_type, id_masked=ref.id_masked)
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


def _enrich(subject: Known, ref: SubjectRef, aliases: list[dict[str, Any]]) -> bool:
    """A known subject gains the USCC and legacy codes a ref brings (names: `names`): the
    aliases to insert go to `aliases`; True if its columns change."""
    coded = bool(ref.uscc and not subject.uscc)
    if coded:
        subject.uscc, subject.uscc_exception = ref.uscc, ref.uscc_exception
        subject.org_code = _derived_org_code(ref)
    for scheme, value in sorted(ref.legacy.items()):
        if (scheme, value) not in subject.identifiers and (scheme, value) != (
            "org_code",
            subject.org_code,
        ):
            subject.identifiers.add((scheme, value))
            aliases.append({"subject_id": subject.id, "scheme": scheme, "value": value})
    return coded


def _identified(subject: Known, ref: SubjectRef) -> bool:
    """Whether a known person gains what a ref brings: the number (and with it this hub's
    hash) where a peer had named the person by hash only, or a federation hash it lacks."""
    gains = bool(ref.id_number and not subject.id_hash) or bool(
        ref.fed_hash and not subject.fed_hash
    )
    if gains:
        subject.id_hash = subject.id_hash or ref.id_hash
        subject.fed_hash = subject.fed_hash or ref.fed_hash
    return gains


def _update_identity(session: Session, gained: Mapping[str, SubjectRef]) -> None:
    """Write what known persons gained (`_identified`): the encrypted number, its masked form
    and this hub's hash, and the federation hash (rare: one statement per batch)."""
    pd = personal_data()
    rows = []
    for subject_id, ref in gained.items():
        row: dict[str, Any] = {"b_id": subject_id, "b_fed_hash": ref.fed_hash, "b_at": utcnow()}
        if ref.id_number:
            row |= {
                "b_id_type": ref.id_type,
                "b_id_hash": ref.id_hash,
                "b_id_cipher": pd.encrypt(ref.id_number, ref.id_type or ""),
                "b_id_masked": mask_id_number(ref.id_number),
            }
        rows.append(row)
    with_number = [r for r in rows if "b_id_hash" in r]
    only_hash = [r for r in rows if "b_id_hash" not in r]
    s = _SUBJECTS.c
    where = s.id == bindparam("b_id")
    fed = func.coalesce(s.fed_hash, bindparam("b_fed_hash"))
    if with_number:
        values = {
            "id_type": bindparam("b_id_type"),
            "id_hash": bindparam("b_id_hash"),
            "id_cipher": bindparam("b_id_cipher"),
            "id_masked": bindparam("b_id_masked"),
            "fed_hash": fed,
            "updated_at": bindparam("b_at"),
        }
        session.execute(update(_SUBJECTS).where(where).values(values), with_number)
    if only_hash:
        values = {"fed_hash": fed, "updated_at": bindparam("b_at")}
        session.execute(update(_SUBJECTS).where(where).values(values), only_hash)


def _update_known(session: Session, subjects: Iterable[Known]) -> None:
    """Write the name and codes of known subjects that changed, in one statement."""
    now = utcnow()
    session.execute(
        update(_SUBJECTS)
        .where(_SUBJECTS.c.id == bindparam("b_id"))
        .values(
            name=bindparam("b_name"),
            uscc=bindparam("b_uscc"),
            uscc_exception=bindparam("b_exception"),
            org_code=bindparam("b_org_code"),
            updated_at=bindparam("b_at"),
        ),
        [
            {
                "b_id": s.id,
                "b_name": s.name,
                "b_uscc": s.uscc,
                "b_exception": s.uscc_exception,
                "b_org_code": s.org_code,
                "b_at": now,
            }
            for s in subjects
        ],
    )
