"""Partners' keys before a sync: meeting another hub, and releasing what was held.

Before this hub syncs with another, each side's key is pinned or checked
(`credithub.trust.keys`), and the versions quarantined from that partner that verify now are
written (`credithub.trust.quarantine`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connectors.base import Connector
from connectors.errors import ConnectorConfigError
from credithub.db import db
from credithub.errors import ServiceError
from credithub.records.prepare import Actor
from credithub.records.service import ingest
from credithub.trust import keys, quarantine


def actor_of(name: str) -> str:
    """The actor name of the connector called `name` (change log `actor`)."""
    return f"connector:{name}"


def meet(connector: Connector) -> int:
    """Before syncing with another hub: pin its key (at first contact, or a rotation its pinned
    key endorsed; another key stops the run until an admin accepts it), take from its signed
    register the keys of the hubs behind it (to pull), present this hub's keys and register to
    it (to push), and release what was quarantined from it and verifies now (how many)."""
    hub = str(connector.remote_hub_id())
    try:
        with db.transaction() as session:
            keys.meet(session, hub, connector.presented_keys(), f"first sync ({connector.name})")
        if connector.config["pull"]:
            register = connector.register()
            with db.transaction() as session:
                keys.take_register(session, hub, register, lambda _other: True)
        if connector.config["push"]:
            with db.transaction() as session:
                mine, register = keys.descriptor(session), keys.register(session)
            connector.introduce(mine, register)
    except ServiceError as exc:
        raise ConnectorConfigError(f"connector {connector.name!r}: {exc}") from None
    with db.transaction() as session:
        return release_held(session, actor_of(connector.name))["released"]


def release_held(
    session: Session, actor: str | None = None, ids: list[int] | None = None
) -> dict[str, int]:
    """Write the quarantined versions (of `actor`, or `ids`) that verify with the keys pinned
    now, each as the peer or connector that sent it (`trust.quarantine.release`)."""

    def write(name: str, records: list[dict[str, Any]]) -> list[str]:
        sender = Actor(name=name, kind="peer", origins=None)
        outcome = ingest(session, records, sender)
        return [item.status for item in outcome.results]

    return quarantine.release(session, keys.pinned(session), write, actor, ids)
