"""Connectors: plug-ins that exchange records with other platforms. They never import Flask or
the app: the sync service hands them plain data and takes plain data back.

Connector types register under the entry-point group ``credithub.connectors``; built-in types
register the same way in pyproject.toml.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector
from connectors.errors import ConnectorConfigError

GROUP = "credithub.connectors"


def available() -> dict[str, type[Connector]]:
    """Connector types by name, from the entry-point group."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise ConnectorConfigError(f"entry point {ep.name!r} is not a Connector class")
        found[ep.name] = cls
    return found


def create(config: dict[str, object]) -> Connector:
    """Build a connector from one [[connectors]] table, validating its keys."""
    kind = config.get("type")
    types = available()
    if kind not in types:
        known = ", ".join(sorted(types)) or "none installed"
        raise ConnectorConfigError(
            f"connector {config.get('name')!r}: unknown type {kind!r} ({known})"
        )
    return types[str(kind)](config)


__all__ = ["GROUP", "Connector", "available", "create"]
