"""Signing keys of the peer hubs in-process tests play: each made from the hub's name, and
pinned by every test app (conftest), so a test's peer record verifies once `signed`."""

from __future__ import annotations

import hashlib
from typing import Any

from credithub.trust import forms
from credithub.trust.keys import Signer

PEERS = (
    "province",
    "hlbe",
    "city-x",
    "city-a",
    "city-b",
    "city-c",
    "nation",
    "elsewhere",
    "dept-a",
    "contract-here",
)


def signer_of(hub: str) -> Signer:
    return Signer.of_seed(hashlib.sha256(f"test signing key of {hub}".encode()).digest())


def pinned_peers() -> dict[str, list[str]]:
    """`federation.keys` pinning every test peer's key."""
    return {hub: [forms.b64(signer_of(hub).public)] for hub in PEERS}


def signed(record: dict[str, Any], by: str | None = None) -> dict[str, Any]:
    """The record with the signature of its origin hub (or of hub `by`)."""
    return signed_with(signer_of(by or record["origin"]["hub"]), record)


def signed_with(signer: Signer, record: dict[str, Any]) -> dict[str, Any]:
    """The record with `signer`'s signature (any it carried replaced)."""
    out = {k: v for k, v in record.items() if k != "signature"}
    out["signature"] = signer.sign(out)
    return out


def signed_all(records: Any) -> Any:
    """Each record that names an origin and carries no signature, signed by its origin hub;
    anything else as it is (a test's malformed item stays malformed)."""
    out = []
    for record in records:
        origin = record.get("origin") if isinstance(record, dict) else None
        if isinstance(origin, dict) and origin.get("hub") in PEERS and "signature" not in record:
            record = signed(record)
        out.append(record)
    return out
