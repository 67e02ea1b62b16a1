"""The signed form of a record version: what a hub signs and every receiver checks. Any change
to what the origin decided (state, content, subject, version) fails; what hubs legitimately
differ in (a subject's legacy codes they learned elsewhere) does not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from credithub.trust import forms
from tests.signing import signer_of

RECORD: dict[str, Any] = {
    "kind": "penalty", "ref": "A住建罚〔2026〕7号", "decided_on": "2026-06-02",
    "authority": {"name": "A市住建局", "uscc": "11150700MB1234567X"},
    "categories": ["罚款"], "fine_yuan": "20000.00", "domains": ["construction"],
    "severity": "minor", "status": "active",
    "origin": {"hub": "city-a", "id": "r-1", "version": 2},
    "subject": {"type": "organization", "name": "某公司", "uscc": "91150700MA0N0PKW2X",
                "legacy_codes": {"org_code": "MA0N0PKW2"}},
}  # fmt: skip
KEYS = {"city-a": {signer_of("city-a").id: signer_of("city-a").public}}


def signed() -> dict[str, Any]:
    record = copy.deepcopy(RECORD)
    record["signature"] = signer_of("city-a").sign(record)
    return record


def test_the_origins_signature_verifies_with_its_pinned_key() -> None:
    assert forms.check(signed(), KEYS) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("status",), "revoked"),
        (("fine_yuan",), "1.00"),
        (("origin", "version"), 3),
        (("origin", "hub"), "city-b"),
        (("origin", "id"), "r-2"),
        (("subject", "uscc"), "91150700MA0N0PKW3X"),
        (("subject", "name"), "另一公司"),
        (("authority", "uscc"), "11150700MB7654321X"),
        (("domains",), []),
        (("revoked",), {"at": "2026-06-10T09:00:00+08:00", "reason": "撤销"}),
    ],
)
def test_any_change_to_what_the_origin_decided_fails(path: tuple[str, ...], value: Any) -> None:
    record = signed()
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    reason = forms.check(record, KEYS)
    assert reason is not None
    assert "does not verify" in reason or "not a key pinned for hub city-b" in reason


def test_legacy_codes_a_hub_learned_elsewhere_do_not_count() -> None:
    record = signed()
    record["subject"]["legacy_codes"] = {"org_code": "MA0N0PKW2", "local": "HLBE-1"}
    del record["subject"]["legacy_codes"]["org_code"]
    assert forms.check(record, KEYS) is None


def test_a_missing_malformed_or_unpinned_signature_is_named() -> None:
    unsigned = copy.deepcopy(RECORD)
    assert "no signature" in str(forms.check(unsigned, KEYS))
    bad = signed()
    bad["signature"]["value"] = "not base64!"
    assert "malformed" in str(forms.check(bad, KEYS))
    other = copy.deepcopy(RECORD)
    other["signature"] = signer_of("city-b").sign(other)  # city B signing city A's record
    assert "not a key pinned for hub city-a" in str(forms.check(other, KEYS))
    assert "not a key pinned" in str(forms.check(signed(), {}))


def test_a_rotation_is_endorsed_only_by_the_previous_key() -> None:
    old, new = signer_of("city-a"), signer_of("city-x")
    message = forms.rotation_message("city-a", new.public)
    endorsement = forms.raw_signature(old.private, message)
    assert forms.verifies(old.public, endorsement, message)
    assert not forms.verifies(new.public, endorsement, message)
    assert not forms.verifies(old.public, endorsement, forms.rotation_message("city-b", new.public))
