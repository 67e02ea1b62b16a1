"""The connectors' small error tree: retry what may pass, stop on what will not."""

from __future__ import annotations


class ConnectorError(Exception):
    """Any failure talking to a platform."""


class ConnectorConfigError(ConnectorError):
    """The connector's configuration is wrong; nothing was sent."""


class RetriableError(ConnectorError):
    """Worth trying again later: timeouts, dropped connections, 429, 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(ConnectorError):
    """Will fail again unchanged: authentication, a refused request (other 4xx), a bad answer."""


class NotSupportedError(ConnectorError):
    """The platform does not offer this (e.g. reconciliation); nothing was sent."""
