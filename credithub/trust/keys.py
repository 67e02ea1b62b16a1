"""Keys: this hub's own (it signs), and those it has pinned for other hubs (it verifies).

A partner's key is pinned like a known host: from configuration (`federation.keys`), at first
contact (the first sync with a hub this hub's admin configured, or the first push over a peer
token an admin issued, pins the key of the hub the token names), from the signed register of a
partner whose key is pinned (the keys of the hubs behind it), or through a rotation the pinned
key endorsed. Any other new key for a hub already pinned is kept `pending` and refused until
an admin accepts it (`credithub sync keys accept`). Keys are never unpinned by a partner, so a
version signed with a former key stays verifiable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.config import key_bytes
from credithub.db import after_outcome, utcnow
from credithub.errors import Conflict, Invalid, NotFound
from credithub.trust import forms
from credithub.trust.models import HubKey


@dataclass(frozen=True)
class Signer:
    """This hub's signing key."""

    private: SigningKey
    public: bytes
    id: str

    @classmethod
    def of_seed(cls, seed: bytes) -> Signer:
        private = SigningKey(seed)
        public = forms.public_bytes(private)
        return cls(private, public, forms.key_id(public))

    def sign(self, record: Mapping[str, Any]) -> dict[str, str]:
        return forms.sign(self.private, self.id, record)

    def sign_bytes(self, message: bytes) -> str:
        return forms.b64(forms.raw_signature(self.private, message))


class KeyChanged(Conflict):
    """A partner presents a key that is neither pinned nor endorsed by one pinned."""


def signer() -> Signer:
    """This hub's signer (`federation.signing_key`), made once per app."""
    found: Signer | None = current_app.extensions.get("credithub.signer")
    if found is None:
        seed = key_bytes(current_app.extensions["credithub.settings"].federation.signing_key)
        found = current_app.extensions["credithub.signer"] = Signer.of_seed(seed)
    return found


def own_hub() -> str:
    return str(current_app.extensions["credithub.settings"].hub.id)


def _configured() -> list[tuple[str, str, str]]:
    """The keys pinned in configuration (`federation.keys`): (hub, key id, base64 key)."""
    keys: dict[str, list[str]] = current_app.extensions["credithub.settings"].federation.keys
    return [
        (hub, forms.key_id(key_bytes(value)), value)
        for hub, values in keys.items()
        for value in values
    ]


def pinned(session: Session) -> dict[str, dict[str, bytes]]:
    """Hub id -> key id -> public key, for every key this hub trusts (configured or pinned)."""
    out: dict[str, dict[str, bytes]] = {}
    for hub, kid, value in _configured():
        out.setdefault(hub, {})[kid] = key_bytes(value)
    query = select(HubKey.hub, HubKey.key_id, HubKey.public_key).where(HubKey.state == "pinned")
    for hub, kid, value in session.execute(query):
        stored = forms.unb64(value, 32)
        if stored is not None:
            out.setdefault(hub, {})[kid] = stored
    return out


def descriptor(session: Session) -> dict[str, Any]:
    """This hub's keys as `GET /api/v1/hub` shows them: the current one, and every key in order
    with each rotation's endorsement, so a partner that pinned an older one follows the chain."""
    me = signer()
    rows = session.scalars(select(HubKey).where(HubKey.hub == own_hub()).order_by(HubKey.id))
    chain = [_presented(row) for row in rows]
    if not chain or chain[-1]["id"] != me.id:
        chain = [k for k in chain if k["id"] != me.id]
        chain.append({"id": me.id, "public_key": forms.b64(me.public)})
    return {"algorithm": "ed25519", "id": me.id, "public_key": forms.b64(me.public), "chain": chain}


def _presented(row: HubKey) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.key_id, "public_key": row.public_key}
    if row.endorsement:
        out |= {"endorsed_by": row.endorsed_by, "endorsement": row.endorsement}
    return out


def channels() -> list[str]:
    """The origins this hub takes records of through channels that sign nothing (the national
    exchange, a file drop): it vouches for those records with its own key."""
    from connectors import create

    out = []
    for config in current_app.extensions["credithub.settings"].connectors:
        connector = create(dict(config))
        if not connector.signs and config.get("pull", True) and connector.hub_id:
            out.append(connector.hub_id)
        connector.close()
    return out


def register(session: Session) -> dict[str, Any]:
    """This hub's signed register: every key it trusts, by hub, with their endorsements; its
    own key also under the origins it vouches for (`channels`)."""
    me, hub = signer(), own_hub()
    entries = [{"hub": hub, "id": me.id, "public_key": forms.b64(me.public)}]
    entries += [{"hub": c, "id": me.id, "public_key": forms.b64(me.public)} for c in channels()]
    rows = session.scalars(
        select(HubKey).where(HubKey.state == "pinned", HubKey.hub != hub).order_by(HubKey.id)
    )
    entries += [{"hub": row.hub, **_presented(row)} for row in rows]
    held = {(e["hub"], e["id"]) for e in entries}
    entries += [
        {"hub": other, "id": kid, "public_key": value}
        for other, kid, value in _configured()
        if (other, kid) not in held
    ]
    body: dict[str, Any] = {"hub": hub, "issued_at": utcnow().isoformat(), "keys": entries}
    body["signature"] = {"key": me.id, "value": me.sign_bytes(forms.register_message(body))}
    return body


def meet(session: Session, hub: str, presented: Any, source: str) -> list[str]:
    """Pin what `hub` presents as its keys (`descriptor` of its `GET /api/v1/hub`): all of them
    at first contact, a new one endorsed by a pinned one, and nothing else: a key neither
    pinned nor endorsed is kept pending and raises KeyChanged. Returns the key ids pinned now."""
    chain = presented.get("chain") if isinstance(presented, Mapping) else None
    if not isinstance(chain, list) or not chain:
        raise Invalid(f"hub {hub} presents no key", {"key": ["required"]})
    keys = [_parsed(hub, item) for item in chain]
    held = pinned(session).get(hub, {})
    if keys[-1][0] in held:
        return []
    first = not held
    known, pinned_now = dict(held), []
    for kid, raw, endorsed_by, endorsement in keys:
        if kid in known:
            continue
        endorser = known.get(endorsed_by or "")
        endorsed = (
            endorser is not None
            and endorsement is not None
            and forms.verifies(endorser, endorsement, forms.rotation_message(hub, raw))
        )
        if first or endorsed:
            why = source if first else f"rotation endorsed by {endorsed_by}"
            _put(session, hub, raw, "pinned", why, endorsed_by, endorsement)
            known[kid] = raw
            pinned_now.append(kid)
    current = keys[-1][0]
    if current not in known:
        # Kept for the admin to see and accept, whatever becomes of this transaction.
        raw = keys[-1][1]
        after_outcome(session, lambda s: _put(s, hub, raw, "pending", source, None, None))
        raise KeyChanged(
            f"hub {hub} presents key {current}, which is not the key pinned for it nor endorsed "
            f"by it; check it with that hub's operator, then: credithub sync keys accept {hub} "
            f"{current}",
            {"key": [f"key {current} of hub {hub} is not trusted"]},
        )
    return pinned_now


def _parsed(hub: str, item: Any) -> tuple[str, bytes, str | None, bytes | None]:
    raw = forms.unb64(item.get("public_key") if isinstance(item, Mapping) else None, 32)
    if raw is None:
        raise Invalid(f"hub {hub} presents a malformed key", {"key": ["base64 of 32 bytes"]})
    endorsed_by = item.get("endorsed_by")
    return (
        forms.key_id(raw),
        raw,
        endorsed_by if isinstance(endorsed_by, str) else None,
        forms.unb64(item.get("endorsement"), 64),
    )


def take_register(
    session: Session, hub: str, body: Any, allowed: Callable[[str], bool]
) -> list[str]:
    """Pin the keys `hub`'s register names for hubs that have none pinned here, and for which
    `allowed(hub)`; the register must verify with a key pinned for `hub`. A key it names for a
    hub pinned already is taken only when a pinned key endorses it (else kept pending)."""
    if not isinstance(body, Mapping) or body.get("hub") != hub:
        raise Invalid(f"the register of hub {hub} is malformed", {"register": ["malformed"]})
    signature = body.get("signature")
    kid = signature.get("key") if isinstance(signature, Mapping) else None
    value = forms.unb64(signature.get("value"), 64) if isinstance(signature, Mapping) else None
    raw = pinned(session).get(hub, {}).get(str(kid))
    if raw is None or value is None or not forms.verifies(raw, value, forms.register_message(body)):
        raise Invalid(
            f"the register of hub {hub} is not signed by a key pinned for it",
            {"register": ["signature does not verify"]},
        )
    own, taken = own_hub(), []
    entries = body.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        other = entry.get("hub") if isinstance(entry, Mapping) else None
        if not isinstance(other, str) or other in (own, hub) or not allowed(other):
            continue
        try:
            taken += meet(session, other, {"chain": [entry]}, f"register of {hub}")
        except (KeyChanged, Invalid):
            continue  # kept pending (or malformed): what it signed stays quarantined
    return taken


def _put(
    session: Session,
    hub: str,
    raw: bytes,
    state: str,
    source: str,
    endorsed_by: str | None,
    endorsement: bytes | None,
    accepted_by: str | None = None,
) -> None:
    kid = forms.key_id(raw)
    row = session.scalar(select(HubKey).where(HubKey.hub == hub, HubKey.key_id == kid))
    if row is None:
        row = HubKey(hub=hub, key_id=kid, public_key=forms.b64(raw), seen_at=utcnow())
        session.add(row)
    if row.state != "pinned":
        row.state, row.source = state, source[:200]
        row.endorsed_by = endorsed_by
        row.endorsement = None if endorsement is None else forms.b64(endorsement)
        row.accepted_by = accepted_by
    session.flush()


def accept(session: Session, hub: str, kid: str, by: str) -> dict[str, Any]:
    """An admin trusts a pending key."""
    row = session.scalar(select(HubKey).where(HubKey.hub == hub, HubKey.key_id == kid))
    if row is None:
        raise NotFound(f"no key {kid} known for hub {hub}")
    if row.state != "pinned":
        row.state, row.accepted_by, row.source = "pinned", by, f"accepted by {by}"
    return _listed(row)


def rotate(session: Session) -> tuple[str, str]:
    """A new signing key for this hub, endorsed by the current one: returns it (base64 seed),
    for the caller to store, and its id. The current key is kept, so what it signed stays
    verifiable."""
    old, hub = signer(), own_hub()
    if session.scalar(select(HubKey).where(HubKey.hub == hub, HubKey.key_id == old.id)) is None:
        _put(session, hub, old.public, "pinned", "own", None, None)
    new = SigningKey.generate()
    public = forms.public_bytes(new)
    endorsement = forms.raw_signature(old.private, forms.rotation_message(hub, public))
    _put(session, hub, public, "pinned", "own, rotated", old.id, endorsement)
    return forms.b64(bytes(new)), forms.key_id(public)


def listing(session: Session) -> list[dict[str, Any]]:
    """Every key known here, configured ones included, by hub."""
    out = [_listed(row) for row in session.scalars(select(HubKey).order_by(HubKey.hub, HubKey.id))]
    held = {(k["hub"], k["id"]) for k in out}
    out += [
        {"hub": hub, "id": kid, "public_key": value, "state": "pinned",
         "source": "configuration", "seen_at": None}
        for hub, kid, value in _configured()
        if (hub, kid) not in held
    ]  # fmt: skip
    me = signer()
    own = {"hub": own_hub(), "id": me.id, "public_key": forms.b64(me.public), "state": "own"}
    out.insert(0, own | {"source": "federation.signing_key", "seen_at": None})
    return out


def _listed(row: HubKey) -> dict[str, Any]:
    return {
        "hub": row.hub,
        "id": row.key_id,
        "public_key": row.public_key,
        "state": row.state,
        "source": row.source,
        "seen_at": row.seen_at.isoformat() if row.seen_at else None,
    }
