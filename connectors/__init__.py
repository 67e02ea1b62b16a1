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


def available() -> list[str]:
    """Names of the installed connector types (loading none of them)."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load(type_name: str) -> type[Connector]:
    """The connector class registered under `type_name`; only that plug-in is imported."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == type_name]
    if not found:
        known = ", ".join(available()) or "none installed"
        raise ConnectorConfigError(f"unknown connector type {type_name!r} ({known})")
    cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorConfigError(f"entry point {type_name!r} is not a Connector class")
    return cls


def create(config: dict[str, object]) -> Connector:
    """Build a connector from one [[connectors]] table, validating its keys."""
    try:
        cls = load(str(config.get("type")))
    except ConnectorConfigError as exc:
        raise ConnectorConfigError(f"connector {config.get('name')!r}: {exc}") from None
    return cls(config)


__all__ = ["GROUP", "Connector", "ConnectorConfigError", "available", "create", "load"]
