"""Who is this? Normalise what the outside world sends about a subject and find or create it.

Every path that names a subject (a department's push, a file import, a peer's record, a check)
goes through `parse_subject` and `ensure_subjects` / `find_subjects`, so one set of rules decides
identity. Lookups are batched: a 5,000-record push costs a handful of queries, not 5,000.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from credithub.db import bulk_insert, new_id, one_of, utcnow
from credithub.entities.identifiers import (
    LEGACY_SCHEMES,
    IdentifierError,
    Uscc,
    mask_id_number,
    normalize,
    parse_id_card,
    parse_legacy,
    parse_uscc,
)
from credithub.entities.models import SUBJECT_TYPES, Subject, SubjectIdentifier, SubjectName
from credithub.errors import Conflict, Invalid
from credithub.privacy import personal_data

# Accepted spellings of a person's ID type → the hub's code. Only 居民身份证 has a check digit.
ID_TYPES: dict[str, str] = {
    "id_card": "id_card",
    "身份证": "id_card",
    "居民身份证": "id_card",
    "中华人民共和国居民身份证": "id_card",
    "01": "id_card",
    "passport": "passport",
    "护照": "passport",
    "hk_macao_pass": "hk_macao_pass",
    "港澳居民来往内地通行证": "hk_macao_pass",
    "taiwan_pass": "taiwan_pass",
    "台湾居民来往大陆通行证": "taiwan_pass",
    "residence_permit": "residence_permit",
    "港澳台居民居住证": "residence_permit",
    "foreigner_permit": "foreigner_permit",
    "外国人永久居留身份证": "foreigner_permit",
    "other": "other",
    "其他": "other",
}

BUNDLED_EXCEPTIONS = Path(__file__).resolve().parent.parent / "data" / "uscc_exceptions.txt"


@dataclass
class SubjectRef:
    """A normalised description of a subject as one message names it."""

    type: str
    name: str
    uscc: str | None = None
    uscc_exception: bool = False
    id_type: str | None = None
    id_number: str | None = None  # clear text only in memory, never stored or logged
    legacy: dict[str, str] = field(default_factory=dict)
    _id_hash: str | None = None
    _keys: list[tuple[str, str]] | None = None

    @property
    def id_hash(self) -> str | None:
        if self.id_number and self._id_hash is None:
            self._id_hash = personal_data().lookup_hash(self.id_type or "", self.id_number)
        return self._id_hash

    def lookup_keys(self) -> list[tuple[str, str]]:
        """Every (scheme, value) that identifies the subject, strongest first."""
        if self._keys is not None:
            return self._keys
        keys: list[tuple[str, str]] = []
        if self.uscc:
            keys.append(("uscc", self.uscc))
        if self.id_hash:
            keys.append(("id", self.id_hash))
        keys.extend(sorted(self.legacy.items()))
        self._keys = keys  # refs are complete once parsed; keys are asked for many times
        return keys


def ref_for_uscc(parsed: Uscc, name: str = "-") -> SubjectRef:
    """The ref of an organization named by a checked USCC (its derived org code included)."""
    ref = SubjectRef(
        type=parsed.subject_type, name=name, uscc=parsed.code, uscc_exception=parsed.exception
    )
    if not parsed.exception:
        ref.legacy["org_code"] = parsed.org_code
    return ref


def load_allow_list(file: str, extra: Iterable[str]) -> frozenset[str]:
    """The USCC allow-list: the shipped (or configured) file plus configured codes."""
    path = Path(file) if file else BUNDLED_EXCEPTIONS
    codes = {normalize(c) for c in extra if c.strip()}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            codes.add(normalize(line))
    return frozenset(codes)


def uscc_allow_list() -> frozenset[str]:
    allow: frozenset[str] = current_app.extensions["credithub.uscc_allow"]
    return allow


def parse_subject(
    data: Any, prefix: str = "subject", allow: frozenset[str] | None = None
) -> tuple[SubjectRef, list[str]]:
    """Validate and normalise a subject object; raise Invalid naming each bad field. `allow`:
    the USCC allow-list (`uscc_allow_list()`, looked up here if not given)."""
    if not isinstance(data, Mapping):
        raise Invalid(f"{prefix} must be an object", {prefix: ["must be an object"]})
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []

    def fail(key: str, message: str) -> None:
        errors.setdefault(f"{prefix}.{key}", []).append(message)

    stype = data.get("type")
    if stype not in SUBJECT_TYPES:
        fail("type", f"must be one of {', '.join(SUBJECT_TYPES)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail("name", "required")
        name = ""
    elif len(name.strip()) > 300:
        fail("name", "at most 300 characters")
    ref = SubjectRef(type=str(stype), name=" ".join(str(name).split()))

    uscc = data.get("uscc")
    if uscc not in (None, ""):
        try:
            parsed, found = parse_uscc(str(uscc), uscc_allow_list() if allow is None else allow)
            ref.uscc, ref.uscc_exception = parsed.code, parsed.exception
            warnings.extend(found)
            if stype == "person":
                fail("uscc", "a natural person has no USCC; send id_type and id_number")
            elif stype == "organization" and parsed.subject_type == "individual_business":
                fail(
                    "uscc",
                    f"code {parsed.code} is an individual business (92…), not an organization",
                )
            elif stype == "individual_business" and parsed.subject_type != "individual_business":
                fail("uscc", f"code {parsed.code} is not an individual business code (92…)")
            elif not parsed.exception:
                ref.legacy["org_code"] = parsed.org_code  # as ref_for_uscc does
        except IdentifierError as exc:
            fail("uscc", exc.reason)

    legacy = data.get("legacy_codes") or {}
    if not isinstance(legacy, Mapping):
        fail("legacy_codes", "must be an object of scheme: code")
    else:
        for scheme, value in legacy.items():
            if value in (None, ""):
                continue
            if scheme not in LEGACY_SCHEMES:
                fail(
                    f"legacy_codes.{scheme}", f"unknown scheme; one of {', '.join(LEGACY_SCHEMES)}"
                )
                continue
            try:
                code = parse_legacy(scheme, str(value))
            except IdentifierError as exc:
                fail(f"legacy_codes.{scheme}", exc.reason)
                continue
            if ref.legacy.get(scheme, code) != code:
                fail(f"legacy_codes.{scheme}", "contradicts the organization code inside the USCC")
            ref.legacy[scheme] = code

    id_number = data.get("id_number")
    if id_number not in (None, ""):
        id_type = ID_TYPES.get(str(data.get("id_type") or "id_card").strip())
        if id_type is None:
            fail("id_type", f"unknown ID type; one of {', '.join(sorted(set(ID_TYPES.values())))}")
        elif id_type == "id_card":
            try:
                ref.id_number = parse_id_card(str(id_number))
            except IdentifierError as exc:
                fail("id_number", exc.reason)
        else:
            value = normalize(str(id_number))
            if not 5 <= len(value) <= 30 or not value.isalnum():
                fail("id_number", "5 to 30 letters and digits")
            ref.id_number = value
        ref.id_type = id_type
        if stype != "person":
            fail("id_number", "only persons are identified by an ID number; send the USCC")

    if stype == "person" and not ref.id_number and "subject.id_number" not in errors:
        fail("id_number", "required for a person")
    if (
        stype in ("organization", "individual_business")
        and not ref.uscc
        and not ref.legacy
        and f"{prefix}.uscc" not in errors
    ):
        fail("uscc", "required (or a legacy code in legacy_codes)")
    if errors:
        raise Invalid("the subject is not valid", errors)
    return ref, warnings


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
    name: str
    name_on: date
    aliases: set[tuple[str, str]]
    names: dict[str, list[date]]


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

    `as_of` is the date each ref was true (the record's decision date), so a late-arriving old
    record does not overwrite a newer name. A ref whose identifiers name two different
    subjects gets a Conflict in its place; the others go ahead. New subjects are inserted in
    bulk: this is the hot path of every import. `new_ids`: the id each ref's subject gets if
    it is created from that ref (made beforehand, see records.prepare.Prepared); by default
    a new one.
    """
    found: dict[tuple[str, str], Any] = dict(_find_candidates(session, refs))
    new: list[_New] = []
    result: list[str | Conflict] = []
    made_ids: Sequence[str | None] = [None] * len(refs) if new_ids is None else new_ids
    for ref, when, made in zip(refs, as_of, made_ids, strict=True):
        try:
            subject = _match(ref, found)
        except Conflict as exc:
            result.append(exc)
            continue
        if subject is None:
            subject = _New(
                made or new_id(),
                ref,
                ref.name,
                when,
                set(ref.legacy.items()),
                {ref.name: [when, when]},
            )
            new.append(subject)
        elif isinstance(subject, _New):
            subject.aliases.update(ref.legacy.items())
            seen = subject.names.setdefault(ref.name, [when, when])
            seen[0], seen[1] = min(seen[0], when), max(seen[1], when)
            if when >= subject.name_on:
                subject.name, subject.name_on = ref.name, when
        else:
            _enrich(subject, ref, when)
        for key in ref.lookup_keys():
            found[key] = subject
        result.append(subject.id)
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
        names.extend(
            {"subject_id": new.id, "name": n, "first_seen": f, "last_seen": last}
            for n, (f, last) in new.names.items()
        )
    bulk_insert(session, Subject, subjects)
    if aliases:
        bulk_insert(session, SubjectIdentifier, aliases)
    bulk_insert(session, SubjectName, names)


def _enrich(subject: Subject, ref: SubjectRef, when: date) -> None:
    if ref.uscc and not subject.uscc:
        subject.uscc, subject.uscc_exception = ref.uscc, ref.uscc_exception
        subject.org_code = _derived_org_code(ref)
    have = {(i.scheme, i.value) for i in subject.identifiers}
    if subject.org_code:
        have.add(("org_code", subject.org_code))
    for scheme, value in sorted(ref.legacy.items()):
        if (scheme, value) not in have:
            subject.identifiers.append(SubjectIdentifier(scheme=scheme, value=value))
    if ref.name and ref.name != subject.name:
        _note_name(subject, ref.name, when)


def _note_name(subject: Subject, name: str, when: date) -> None:
    known = {n.name: n for n in subject.names}
    entry = known.get(name)
    if entry is None:
        subject.names.append(SubjectName(name=name, first_seen=when, last_seen=when))
    else:
        entry.first_seen, entry.last_seen = min(entry.first_seen, when), max(entry.last_seen, when)
    current = known.get(subject.name)
    if current is None or when >= current.last_seen:
        subject.name = name


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
