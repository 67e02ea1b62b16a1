"""A checked record in the hub's normal form (`Prepared`), and how a record that passed its
checks is put in it (`normal_form`): its severity, publication period, term and domains from the
rule pack, its own fields as canonical JSON, and the ids and digest it gets if it is new. The
checks are `records.prepare`; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from credithub.db import JsonText, canonical_json, new_id
from credithub.entities.service import SubjectRef
from credithub.errors import Invalid
from credithub.jsonbody import nul_paths
from credithub.records.digest import content_digest
from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months

if TYPE_CHECKING:
    from credithub.records.prepare import Subjects


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


def normal_form(
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
