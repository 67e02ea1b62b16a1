"""Authenticated clients kept in memory for a few seconds, so a request costs no token query.

The cache holds only live clients, by the sha256 of their token, for `security.token_cache_seconds`
(0: no cache, every request reads the clients table). A revocation or rotation made in this
process drops every entry at once (`forget_tokens`, also after the transaction ends, so a request
racing the change cannot put the old entry back for longer than its commit). One made in another
process (another gunicorn worker, the CLI, another host) takes effect there within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from credithub.clients.models import Rights


@dataclass(frozen=True)
class Caller(Rights):
    """An authenticated client as a request sees it: plain values, safe to keep across requests."""

    id: str
    name: str
    kind: str
    uscc: str | None
    hub: str | None
    relays_for: tuple[str, ...] = ()


# Bumped by every revocation or rotation in this process; entries of an older generation are
# gone. One counter for every app in the process: the CLI and the server may be different apps
# on the same database (tests run both in one process).
_generation = 0
_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached client in this process (a token was revoked or rotated)."""
    global _generation
    with _lock:
        _generation += 1


class TokenCache:
    """Live clients by token hash, each for `seconds` after it was read from the database."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, int, Caller]] = {}

    def peek(self, token_hash: str) -> Caller | None:
        """The cached client of `token_hash` if its entry is still live, else None."""
        entry = self._entries.get(token_hash)
        if entry is not None:
            expires, generation, caller = entry
            if generation == _generation and self.clock() < expires:
                return caller
            self._entries.pop(token_hash, None)
        return None

    def get(self, token_hash: str, load: Callable[[], Caller | None]) -> Caller | None:
        """The cached client of `token_hash`, else `load()` (cached when live)."""
        cached = self.peek(token_hash)
        if cached is not None:
            return cached
        # The generation is taken before the read: a revocation in this process during the read
        # makes the entry stale at once, whatever it read.
        generation = _generation
        loaded = load()
        if loaded is not None and self.seconds > 0:
            if len(self._entries) > 10_000:  # only live tokens get in; bounds a long-lived worker
                self._entries.clear()
            self._entries[token_hash] = (self.clock() + self.seconds, generation, loaded)
        return loaded
