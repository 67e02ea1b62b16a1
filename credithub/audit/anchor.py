"""Anchors: the head of the audit chain (sequence number and hash), signed with this hub's key
and kept outside the database.

Whoever holds the hub's database role can delete entries and recompute every hash after them
with the hub's own hashing: the chain alone then verifies. An anchor kept where that role cannot
write (write-once or remote storage) pins each entry it names: `credithub audit verify
--anchors` finds the entry at that sequence number with another hash, or gone, and names it.

An anchor is JSON: `{"hub", "seq", "hash", "at", "signature": {"key", "value"}}`; the
signature is Ed25519 over `MESSAGE_PREFIX` and the canonical JSON of the rest, with the key
that signs this hub's record versions (`federation.signing_key`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.audit.models import AuditEntry, AuditHead
from credithub.audit.service import GENESIS
from credithub.db import canonical_json, utcnow
from credithub.trust import forms
from credithub.trust.keys import own_hub, signer
from credithub.trust.models import HubKey

MESSAGE_PREFIX = b"credithub audit anchor\n"
FILE_PREFIX = "audit-head-"


def message(body: Mapping[str, Any]) -> bytes:
    """What the hub signs of an anchor: the anchor without its signature."""
    return MESSAGE_PREFIX + canonical_json({k: v for k, v in body.items() if k != "signature"})


def head(session: Session) -> dict[str, Any]:
    """The chain's head now, signed."""
    row = session.get(AuditHead, 1)
    seq, hash_ = (int(row.seq), row.hash) if row else (0, GENESIS)
    body: dict[str, Any] = {"hub": own_hub(), "seq": seq, "hash": hash_, "at": utcnow().isoformat()}
    me = signer()
    body["signature"] = {"key": me.id, "value": me.sign_bytes(message(body))}
    return body


def directory() -> Path:
    """Where the scheduler writes anchors (`audit.anchor_dir`; default: the instance folder's
    `audit-anchors`)."""
    settings = current_app.extensions["credithub.settings"]
    configured = settings.audit.anchor_dir
    return Path(configured) if configured else settings.instance_path / "audit-anchors"


def write(anchor: Mapping[str, Any], path: Path) -> Path:
    """Write `anchor` to `path` (a file), or into `path` (a directory) as a file named by its
    sequence number; never over an existing anchor."""
    if path.is_dir():
        path = path / f"{FILE_PREFIX}{anchor['seq']:012d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as out:  # exclusive: an anchor is never rewritten
        out.write(orjson.dumps(anchor, option=orjson.OPT_INDENT_2) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def anchor_job() -> dict[str, Any]:
    """The scheduler's job: the head signed into `directory()`, once for each head."""
    from credithub.db import db

    with db.transaction() as session:
        anchor = head(session)
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / f"{FILE_PREFIX}{anchor['seq']:012d}.json").exists():
        return {"seq": anchor["seq"], "written": False}
    return {"seq": anchor["seq"], "written": str(write(anchor, folder))}


def load(path: Path) -> list[tuple[str, Any]]:
    """The anchors in `path` (a file, or every `*.json` of a directory): (name, parsed JSON,
    or None when a file is no JSON)."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    found: list[tuple[str, Any]] = []
    for file in files:
        try:
            found.append((file.name, orjson.loads(file.read_bytes())))
        except orjson.JSONDecodeError:
            found.append((file.name, None))
    return found


def check(session: Session, anchors: list[tuple[str, Any]]) -> list[str]:
    """Each anchor's problems: not this hub's, not signed by its key, or its entry gone from
    the chain or holding another hash."""
    keys = _own_keys(session)
    problems: list[str] = []
    for name, body in anchors:
        problem = _problem(session, keys, body)
        if problem:
            problems.append(f"anchor {name}: {problem}")
    return problems


def _problem(session: Session, keys: Mapping[str, bytes], body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return "not an anchor (JSON object expected)"
    seq, hash_, signature = body.get("seq"), body.get("hash"), body.get("signature")
    if not isinstance(seq, int) or not isinstance(hash_, str) or not isinstance(signature, Mapping):
        return "not an anchor (seq, hash and signature expected)"
    if body.get("hub") != own_hub():
        return f"the head of hub {body.get('hub')!r}, not of this hub"
    raw = keys.get(str(signature.get("key")))
    value = forms.unb64(signature.get("value"), 64)
    if raw is None or value is None or not forms.verifies(raw, value, message(body)):
        return "its signature is not this hub's: not an anchor this hub wrote"
    if seq == 0:
        return None
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    if stored is None:
        return f"entry {seq} is anchored but missing from the chain"
    if stored != hash_:
        return (
            f"entry {seq} is anchored with hash {hash_[:12]}… but the chain holds "
            f"{stored[:12]}…: entries were removed or rewritten and the chain rebuilt"
        )
    return None


def _own_keys(session: Session) -> dict[str, bytes]:
    """This hub's signing key, and its former ones (kept in `hub_keys` by a rotation)."""
    me, hub = signer(), own_hub()
    keys = {me.id: me.public}
    rows = session.execute(
        select(HubKey.key_id, HubKey.public_key).where(HubKey.hub == hub, HubKey.state == "pinned")
    )
    for kid, value in rows:
        raw = forms.unb64(value, 32)
        if raw is not None:
            keys.setdefault(kid, raw)
    return keys
