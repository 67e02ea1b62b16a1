"""Ids: the one way the hub makes them."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A 128-bit id as 32 lower-case hex digits: the time in milliseconds (48 bits), then 80
    random bits from the OS (a UUIDv7's layout without its version bits; uuid4 cost seven times
    as much, and an import makes three ids per record). Ids made one after another sort
    together, so the indexes keyed by them grow at one end: a batch of new records dirties a
    few pages of each index, where random ids dirtied about one page per record (each written
    again at commit)."""
    return (time.time_ns() // 1_000_000).to_bytes(6, "big").hex() + os.urandom(10).hex()
