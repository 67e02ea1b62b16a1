"""Create, find, list and revoke clients; authenticate bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub import audit
from credithub.clients.cache import Caller, forget_tokens
from credithub.clients.models import KINDS, Client
from credithub.db import after_outcome, utcnow
from credithub.entities.identifiers import IdentifierError, parse_uscc
from credithub.errors import Conflict, Invalid, NotFound

TOKEN_PREFIX = "chub_"  # noqa: S105  (a marker that tells tokens apart, not a secret)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(
    session: Session,
    name: str,
    kind: str,
    uscc: str | None = None,
    actor: str = "cli",
    hub: str | None = None,
    relays_for: Sequence[str] = (),
) -> tuple[Client, str]:
    """Create a client and return it with its token, which is never stored or shown again.
    A peer may relay records of other hubs (`relays_for`): it may send records of those
    origins besides its own hub's."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("name must be 1 to 100 characters", {"name": ["1 to 100 characters"]})
    if kind not in KINDS:
        raise Invalid(f"unknown client kind {kind!r}", {"kind": [f"one of {', '.join(KINDS)}"]})
    if uscc:
        try:
            uscc = parse_uscc(uscc)[0].code
        except IdentifierError as exc:
            raise Invalid(str(exc), {"uscc": [exc.reason]}) from None
    elif kind == "department":
        raise Invalid("a department needs its USCC", {"uscc": ["required for a department"]})
    if kind == "peer" and not hub:
        raise Invalid("a peer needs its hub id", {"hub": ["required for a peer (its [hub] id)"]})
    if hub and kind != "peer":
        raise Invalid("only a peer has a hub id", {"hub": ["only for a peer"]})
    own = current_app.extensions["credithub.settings"].hub.id
    if hub and hub == own:
        raise Invalid(
            f"{hub!r} is this hub's own id: a peer is another hub. If the peer has this id "
            "too, give each hub its own id ([hub] id in the configuration file) first",
            {"hub": ["this hub's own id"]},
        )
    relays = _relays(kind, hub, relays_for, own)
    if session.scalar(select(Client.id).where(Client.name == name)):
        raise Conflict(f"a client named {name!r} exists already", {"name": ["taken"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = Client(
        name=name,
        kind=kind,
        uscc=uscc,
        hub=hub,
        relays_for=relays or None,
        token_hash=hash_token(token),
        token_hint=token[:12],
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor,
        "client.create",
        "client",
        client.id,
        {"name": name, "kind": kind, "uscc": uscc, "hub": hub, "relays_for": relays},
    )
    return client, token


def _relays(kind: str, hub: str | None, relays_for: Sequence[str], own: str) -> list[str]:
    """The hubs a peer relays for, checked: origin hub ids, neither this hub's nor the peer's."""
    relays = sorted({h.strip() for h in relays_for if h.strip()})
    if not relays:
        return []
    if kind != "peer":
        raise Invalid("only a peer relays for hubs", {"relays_for": ["only for a peer"]})
    for relayed in relays:
        if len(relayed) > 64 or not relayed.isprintable() or any(c.isspace() for c in relayed):
            raise Invalid(
                f"{relayed!r} is not a hub id",
                {"relays_for": ["hub ids (an origin's hub): at most 64 characters, no spaces"]},
            )
        if relayed in (own, hub):
            which = "this hub's own id" if relayed == own else "the peer's own hub"
            raise Invalid(f"a peer does not relay for {which}", {"relays_for": [which]})
    return relays


def rotate_token(session: Session, name: str, actor: str = "cli") -> tuple[Client, str]:
    """Give a client a new token; the old one stops working at once."""
    client = get_by_name(session, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client.token_hash, client.token_hint, client.revoked_at = hash_token(token), token[:12], None
    audit.record(session, actor, "client.rotate", "client", client.id, {"name": name})
    _forget_tokens(session)
    return client, token


def get_by_name(session: Session, name: str) -> Client:
    client = session.scalar(select(Client).where(Client.name == name))
    if client is None:
        raise NotFound(f"no client named {name!r}")
    return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.created_at)))


def revoke_client(session: Session, name: str, actor: str = "cli") -> Client:
    client = get_by_name(session, name)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record(session, actor, "client.revoke", "client", client.id, {"name": name})
        _forget_tokens(session)
    return client


def _forget_tokens(session: Session) -> None:
    # Now, and again once the change is committed (or not): a request of this process that
    # read the old row before the commit cannot keep it in the token cache.
    forget_tokens()
    after_outcome(session, lambda _session: forget_tokens())


def authenticate(session: Session, token: str) -> Caller | None:
    """The live client holding `token`, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    columns = (Client.id, Client.name, Client.kind, Client.uscc, Client.hub, Client.relays_for)
    row = session.execute(
        select(*columns).where(Client.token_hash == hash_token(token), Client.revoked_at.is_(None))
    ).first()
    return None if row is None else Caller(*row[:5], tuple(row[5] or ()))
