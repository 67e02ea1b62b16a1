"""What a message says about a subject, checked and normalised into a `SubjectRef`.

Every path that names a subject (a department's push, a file import, a peer's record, a check)
parses it here, so one set of rules reads identifiers; `resolve` then finds or creates it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

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
from credithub.entities.models import SUBJECT_TYPES
from credithub.errors import Invalid
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
    # A person a peer hub names without the number: as it was sent (`parse_subject`).
    id_masked: str | None = None
    _fed_hash: str | None = None
    _id_hash: str | None = None
    _keys: list[tuple[str, str]] | None = None

    @property
    def id_hash(self) -> str | None:
        """This hub's own lookup hash: only where the number is known."""
        if self.id_number and self._id_hash is None:
            self._id_hash = personal_data().lookup_hash(self.id_type or "", self.id_number)
        return self._id_hash

    @property
    def fed_hash(self) -> str | None:
        """The federation hash: made from the number where it is known, else as a peer sent it."""
        if self.id_number and self._fed_hash is None:
            self._fed_hash = personal_data().federation_hash(self.id_type or "", self.id_number)
        return self._fed_hash

    def lookup_keys(self) -> list[tuple[str, str]]:
        """Every (scheme, value) that identifies the subject, strongest first."""
        if self._keys is not None:
            return self._keys
        keys: list[tuple[str, str]] = []
        if self.uscc:
            keys.append(("uscc", self.uscc))
        if self.id_hash:
            keys.append(("id", self.id_hash))
        if self.fed_hash:
            keys.append(("fed", self.fed_hash))
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
    data: Any,
    prefix: str = "subject",
    allow: frozenset[str] | None = None,
    from_peer: bool = False,
) -> tuple[SubjectRef, list[str]]:
    """Validate and normalise a subject object; raise Invalid naming each bad field. `allow`:
    the USCC allow-list (`uscc_allow_list()`, looked up here if not given). `from_peer`: the
    subject may name a person by `id_hash` and `id_masked` (as hubs send persons to each
    other) instead of `id_number`; from anyone else those fields are refused."""
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

    if "id_hash" in data or "id_masked" in data:
        _parse_hashed(data, ref, from_peer, fail)

    if (
        stype == "person"
        and not ref.id_number
        and not ref.fed_hash
        and not {f"{prefix}.{k}" for k in ("id_number", "id_hash", "id_masked")} & errors.keys()
    ):
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


_HEX = frozenset("0123456789abcdef")


def _parse_hashed(
    data: Mapping[str, Any], ref: SubjectRef, from_peer: bool, fail: Callable[[str, str], None]
) -> None:
    """A person as hubs send persons to each other: `id_type`, `id_masked` and `id_hash` (the
    federation hash), never the number. Only peer hubs send it; a department sends the number."""
    if not from_peer:
        for key in ("id_hash", "id_masked"):
            if key in data:
                fail(key, "only peer hubs send it; send id_number (with id_type)")
        return
    if data.get("id_number") not in (None, ""):
        for key in ("id_hash", "id_masked"):
            if key in data:
                fail(key, "send id_number or id_hash with id_masked, not both")
        return
    if data.get("type") != "person":
        fail("id_hash", "only persons are named by a hashed ID number")
        return
    value, masked = data.get("id_hash"), data.get("id_masked")
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX:
        fail("id_hash", "64 lowercase hex digits (HMAC-SHA256 under the federation key)")
    if (
        not isinstance(masked, str)
        or not 5 <= len(masked) <= 30
        or not all(c == "*" or (c.isascii() and c.isalnum()) for c in masked)
        or mask_id_number(masked) != masked
    ):
        # What `mask_id_number` shows: a number in clear is never taken for a masked one.
        fail("id_masked", "the masked ID number, as hubs show it (110105********002X)")
    id_type = ID_TYPES.get(str(data.get("id_type") or "id_card").strip())
    if id_type is None:
        fail("id_type", f"unknown ID type; one of {', '.join(sorted(set(ID_TYPES.values())))}")
        return
    ref.id_type, ref.id_masked, ref._fed_hash = id_type, str(masked), str(value)
