"""Check one incoming record and put it in the hub's normal form (`records.normal_form`), or say
exactly what is wrong.

Everything here is per item and touches no database: a batch of 5,000 is prepared first, then
resolved and written in bulk by the service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from credithub import clock
from credithub.db import new_id
from credithub.entities.identifiers import IdentifierError, Uscc, parse_uscc
from credithub.entities.service import SubjectRef, parse_subject
from credithub.errors import Invalid
from credithub.records.codes import check_codes, check_listing, check_terms
from credithub.records.loaders import DATE_FIELDS, Loader, load_api_record
from credithub.records.loaders import load_by_schema as load_by_schema
from credithub.records.loaders import load_checked_record as load_checked_record
from credithub.records.normal_form import Prepared, normal_form
from credithub.rules.pack import RulePack
from schemas.sgs_out import missing_for_exchange, not_exchangeable

CHINA = clock.CHINA  # dates in records are dates in China
# What storage holds, whichever edge the record came through.
_LIMITS = tuple(
    (path, path.split("."), limit)
    for path, limit in (
        ("subject.name", 300),
        ("authority.name", 200),
        ("subject.legal_rep.name", 100),
    )
)


_ONLY_WITH_ORIGIN = ("status", "revoked", "signature")


def today_in_china() -> date:
    return clock.today()


@dataclass
class Actor:
    """Who is writing: a client of the API, the CLI acting as one, or a connector."""

    name: str
    kind: str  # department | admin | peer | consumer
    uscc: str | None = None
    # The origin hubs a peer may send records of: a peer client's own hub and the hubs it is
    # configured to relay for (`of_client`); none by default. None: not limited by origin (a
    # pull through a connector, whose relayed records signatures guard).
    origins: frozenset[str] | None = frozenset()
    # Whether a record of another origin must carry a signature that verifies with a key pinned
    # for that origin (credithub.trust.forms.check). False only for a channel that signs
    # nothing (the national exchange, a file drop), which brings records of its own origin only.
    checks_signatures: bool = True

    @classmethod
    def of_client(
        cls,
        name: str,
        kind: str,
        uscc: str | None = None,
        hub: str | None = None,
        relays_for: tuple[str, ...] = (),
    ) -> Actor:
        """A client of the API (or the CLI acting as one)."""
        origins = frozenset(h for h in (hub, *relays_for) if h)
        return cls(name=name, kind=kind, uscc=uscc, origins=origins)

    @classmethod
    def of_caller(cls, caller: Any) -> Actor:
        """The authenticated client of a request (`clients.cache.Caller`)."""
        return cls.of_client(caller.name, caller.kind, caller.uscc, caller.hub, caller.relays_for)

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


class Subjects:
    """The subjects of one batch, each parsed once: a subject several records name (an import
    writes a subject's rows together) is one `SubjectRef`, which pickles once. Only subjects
    given as text are remembered; anything else is parsed each time."""

    def __init__(self, allow: frozenset[str], from_peer: bool = False) -> None:
        self.allow = allow
        self.from_peer = from_peer  # persons may come as id_hash and id_masked (parse_subject)
        self._seen: dict[tuple[str | None, ...], tuple[SubjectRef, tuple[str, ...]]] = {}
        self._ids: dict[int, tuple[SubjectRef, str]] = {}  # by id(ref), the ref kept alive

    def made_id(self, ref: SubjectRef) -> str:
        """The id the subject gets if it is new: the same for every record naming it."""
        made = self._ids.get(id(ref))
        if made is None:
            made = self._ids[id(ref)] = ref, new_id()
        return made[1]

    def parse(self, data: Any, prefix: str = "subject") -> tuple[SubjectRef, list[str]]:
        """As `parse_subject` (raises Invalid); the same ref for the same subject."""
        key = _subject_key(data, prefix)
        if key is None:
            return parse_subject(data, prefix, self.allow, self.from_peer)
        seen = self._seen.get(key)
        if seen is None:
            ref, warnings = parse_subject(data, prefix, self.allow, self.from_peer)
            seen = self._seen[key] = ref, tuple(warnings)
        return seen[0], list(seen[1])


_SUBJECT_FIELDS = ("type", "name", "uscc", "id_type", "id_number", "id_hash", "id_masked")


def _subject_key(data: Any, prefix: str) -> tuple[str | None, ...] | None:
    """What `parse_subject` reads of a subject, if all of it is text; else None."""
    if not isinstance(data, dict):
        return None
    legacy = data.get("legacy_codes") or {}
    if not isinstance(legacy, dict):
        return None
    key = (
        prefix,
        *(data.get(k) for k in _SUBJECT_FIELDS),
        *(x for item in sorted(legacy.items()) for x in item),
    )
    return key if all(v is None or type(v) is str for v in key) else None


def prepare(
    index: int,
    item: Any,
    actor: Actor,
    pack: RulePack,
    today: date,
    subjects: Subjects,
    raw: dict[str, Any] | None = None,
    loader: Loader = load_api_record,
) -> Prepared:
    """Validate and normalise one record; raise Invalid naming each bad field. `subjects`:
    the batch's subjects (with the USCC allow-list: codes that fail the checksum, accepted
    with a warning)."""
    data = loader(item)
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    _check_storage_limits(data, errors)

    for name in DATE_FIELDS:
        if name in data and data[name] > today:
            errors.setdefault(name, []).append(
                f"in the future (today is {today.isoformat()} in China)"
            )

    subject: SubjectRef | None = None
    try:
        subject, found = subjects.parse(data["subject"])
        warnings.extend(found)
    except Invalid as exc:
        _merge(errors, exc.errors)
    legal_rep = _legal_rep(data["subject"].get("legal_rep"), errors, subjects)

    authority_uscc, authority_name = _authority(data, actor, errors, warnings, subjects.allow)
    check_codes(data, pack, errors)
    check_listing(data, pack, errors, warnings)
    if not errors:  # bounds of dates and codes that are themselves valid
        check_terms(data, pack, errors, warnings)
    if errors:
        raise Invalid("the record is not valid", errors)
    assert subject is not None
    # Taken, but the national exchange would refuse its row: said to the department that sends
    # it (or the office), not to a peer hub passing it on. Its origin told its department; a hub
    # relaying it can do nothing about it (the exchange's connector skips the row anywhere).
    if data["kind"] == "penalty" and actor.kind != "peer":
        stated = {**data, "authority": {"name": authority_name, "uscc": authority_uscc}}
        if missing := missing_for_exchange(stated):
            warnings.append(not_exchangeable(missing))

    # Who may send what (records.decide.refusal) is asked of the prepared record.
    origin = data.get("origin")
    if origin is None and any(k in data for k in _ONLY_WITH_ORIGIN):
        raise Invalid(
            "status, revoked and signature come only with origin (from peer hubs)",
            {k: ["only with origin"] for k in _ONLY_WITH_ORIGIN if k in data},
        )
    if actor.kind == "peer" and origin is None:
        raise Invalid("a peer hub sends records with their origin", {"origin": ["required"]})

    return normal_form(
        index, data, subjects, subject, legal_rep, (authority_uscc, authority_name), pack, origin,
        raw, warnings,
    )  # fmt: skip


def _check_storage_limits(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for path, parts, limit in _LIMITS:
        value: Any = data
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) > limit:
            errors.setdefault(path, []).append(f"at most {limit} characters")


def _authority(
    data: dict[str, Any],
    actor: Actor,
    errors: dict[str, list[str]],
    warnings: list[str],
    allow: frozenset[str],
) -> tuple[str, str]:
    given = data.get("authority") or {}
    uscc = given.get("uscc")
    if not uscc:
        if actor.kind != "department" or not actor.uscc:
            errors.setdefault("authority.uscc", []).append(
                "required (the deciding authority's USCC)"
            )
            return "", ""
        return actor.uscc, given.get("name") or actor.name
    try:
        parsed, found = _authority_uscc(uscc, allow)
    except IdentifierError as exc:
        errors.setdefault("authority.uscc", []).append(exc.reason)
        return "", ""
    warnings.extend(found)
    return parsed.code, given.get("name") or (
        actor.name if parsed.code == actor.uscc else parsed.code
    )


@functools.lru_cache(maxsize=256)  # a batch names the same few authorities row after row
def _authority_uscc(code: str, allow: frozenset[str]) -> tuple[Uscc, tuple[str, ...]]:
    parsed, found = parse_uscc(code, allow)
    return parsed, tuple(found)


def _legal_rep(
    rep: dict[str, Any] | None, errors: dict[str, list[str]], subjects: Subjects
) -> SubjectRef | None:
    """The legal representative as a person to link, when named with an ID number (from a peer
    hub: its hash). A name alone (`"legal_rep": "王建军"` or `{"name": …}`) is kept as the
    record states it and links no one: a name does not tell one person from another."""
    if not rep or not any(rep.get(k) for k in ("id_number", "id_hash", "id_masked")):
        return None
    try:
        ref, _ = subjects.parse({"type": "person", **rep}, "subject.legal_rep")
    except Invalid as exc:
        _merge(errors, exc.errors)
        return None
    return ref


def _merge(errors: dict[str, list[str]], more: dict[str, Any]) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(
            messages if isinstance(messages, list) else [str(messages)]
        )
