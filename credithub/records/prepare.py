"""Check one incoming record and put it in the hub's normal form, or say exactly what is wrong.

Everything here is per item and touches no database: a batch of 5,000 is prepared first, then
resolved and written in bulk by the service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from credithub import clock
from credithub.db import JsonText, canonical_json, new_id
from credithub.entities.identifiers import IdentifierError, Uscc, parse_uscc
from credithub.entities.service import SubjectRef, parse_subject
from credithub.errors import Invalid
from credithub.jsonbody import nul_paths
from credithub.records.codes import check_codes, check_listing, check_terms
from credithub.records.digest import content_digest
from credithub.records.loaders import DATE_FIELDS, Loader, load_api_record
from credithub.records.loaders import load_by_schema as load_by_schema
from credithub.records.loaders import load_checked_record as load_checked_record
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months
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


@dataclass
class Prepared:
    """A valid record, normalised, not yet tied to stored subjects or records."""

    index: int
    kind: str
    ref: str
    authority_uscc: str
    authority_name: str
    decided_on: date
    subject: SubjectRef
    legal_rep: SubjectRef | None
    # The record's own fields (no subject identifiers) as stored: canonical JSON (sorted keys).
    content_json: str
    domains: list[str]
    severity: str | None
    publish_until: date | None
    code: str | None
    starts_on: date
    ends_on: date | None
    origin: dict[str, Any] | None
    raw_json: JsonText | None  # the row as received (a 双公示 row), as stored
    # The record's state at its origin (peer records only): status and revocation.
    status: str = "active"
    revoked: dict[str, Any] | None = None
    # The origin's signature of a peer's record (`{"key", "value"}`), passed on untouched.
    signature: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    record_id: str = field(default_factory=new_id)  # the id the record gets if it is new
    # The ids its subject and legal representative get if they are new (`Subjects.made_id`:
    # one for each subject of a batch), and the digest with them, made where it is checked.
    subject_id: str = field(default_factory=new_id)
    legal_rep_made_id: str | None = None
    made_digest: str = field(init=False)

    def __post_init__(self) -> None:
        self.made_digest = self._digest(self.subject_id, self.legal_rep_made_id)

    def content_hash(self, subject_id: str, legal_rep_id: str | None) -> str:
        """The digest that tells a changed record from one sent again unchanged."""
        if subject_id == self.subject_id and legal_rep_id == self.legal_rep_made_id:
            return self.made_digest
        return self._digest(subject_id, legal_rep_id)

    def _digest(self, subject_id: str, legal_rep_id: str | None) -> str:
        # Made when asked, not kept: it repeats the content, and a checked record is pickled.
        return content_digest(
            self.content_json,
            self.domains,
            self.severity,
            self.publish_until,
            subject_id,
            legal_rep_id,
        )


def _canonical(content: dict[str, Any]) -> bytes:
    """Content as canonical JSON: sorted keys, dates in ISO form, amounts as plain decimals."""
    return canonical_json(content, floats=())  # no floats: amounts are decimals


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
    if data["kind"] == "penalty":  # taken, but the national exchange would refuse its row
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

    return _normal_form(
        index, data, subjects, subject, legal_rep, (authority_uscc, authority_name), pack, origin,
        raw, warnings,
    )  # fmt: skip


def _normal_form(
    index: int,
    data: dict[str, Any],
    subjects: Subjects,
    subject: SubjectRef,
    legal_rep: SubjectRef | None,
    authority: tuple[str, str],
    pack: RulePack,
    origin: dict[str, Any] | None,
    raw: dict[str, Any] | None,
    warnings: list[str],
) -> Prepared:
    kind: str = data["kind"]
    authority_uscc, authority_name = authority
    decided_on: date = data["decided_on"]
    severity: str | None = None
    publish_until: date | None = None
    code: str | None = data.get("code")
    starts_on, ends_on = decided_on, data.get("expires_on")
    if kind == "penalty":
        severity = data.get("severity") or pack.classify_penalty(
            data["categories"], data.get("fine_yuan")
        )
        publish_until = data.get("publish_until")
        if publish_until is None:
            period = pack.publication(decided_on, severity, data.get("sector"))
            publish_until = period.max_until if period.published else None
        ends_on = max((d for d in (data.get("valid_until"), publish_until) if d), default=None)
    elif kind == "blacklist":
        code = data["list"]
        starts_on = data.get("listed_on") or decided_on
        if ends_on is None:
            # The term is fixed when the listing is decided: the pack's default term then.
            ends_on = pack.lists[code].default_expiry(starts_on)
    elif kind == "commendation":
        starts_on = data.get("awarded_on") or decided_on
        months = pack.commendations[code].default_months if code else None
        if ends_on is None and months is not None:
            ends_on = add_months(starts_on, months)
    elif kind == "misconduct":
        starts_on = data.get("occurred_on") or decided_on
    domains = sorted(set(data.get("domains") or pack.default_domains(kind, code)))

    content = {
        k: v
        for k, v in data.items()
        if k not in ("subject", "origin", "authority", "status", "revoked", "signature")
    }
    content["authority"] = {"name": authority_name, "uscc": authority_uscc}
    # The subject's name as this decision states it: the record keeps it whatever the subject
    # is called later (the subject's current name follows the latest decision, entities.names).
    content["subject"] = {"name": subject.name}
    if "legal_rep" in data["subject"]:
        rep = data["subject"]["legal_rep"]
        content["legal_rep"] = {"name": rep["name"]}
    content.pop("domains", None)
    content.pop("severity", None)
    content.pop("publish_until", None)
    content_json = _canonical(content)
    # A record that came by no JSON body (a pull) is checked here: no text may hold NUL.
    state = {k: data[k] for k in ("origin", "revoked") if data.get(k)}
    if b"\\u0000" in content_json or (state and nul_paths(state)):
        raise Invalid("text may not hold a NUL character", nul_paths(data))
    return Prepared(
        index=index,
        kind=kind,
        ref=data["ref"].strip(),
        authority_uscc=authority_uscc,
        authority_name=authority_name,
        decided_on=decided_on,
        subject=subject,
        legal_rep=legal_rep,
        subject_id=subjects.made_id(subject),
        legal_rep_made_id=None if legal_rep is None else subjects.made_id(legal_rep),
        content_json=content_json.decode(),
        domains=domains,
        severity=severity,
        publish_until=publish_until,
        code=code,
        starts_on=starts_on,
        ends_on=ends_on,
        origin=origin,
        raw_json=None if raw is None else JsonText.of(raw),
        warnings=warnings,
        # A peer's record keeps the state it has at its origin, an expiry included.
        status=data.get("status", "active"),
        revoked=data.get("revoked"),
        signature=data.get("signature"),
    )


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
