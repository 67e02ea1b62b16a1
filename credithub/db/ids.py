"""Ids: the one way the hub makes them."""

from __future__ import annotations

import os
import threading
import time


def new_id() -> str:
    """A 128-bit id as 32 hex digits: the time in milliseconds (48 bits), then 80 random bits
    (a UUIDv7's layout without its version bits; uuid4 cost seven times as much, and an import
    makes three ids per record). Ids made one after another sort together, so the indexes keyed
    by them grow at one end: a batch of new records dirties a few pages of each index, where
    random ids dirtied about one page per record (each written again at commit)."""
    return (time.time_ns() // 1_000_000).to_bytes(6, "big").hex() + _random_digits()


# The random part of ids is cut from a block of the OS's randomness: one call for 400 ids, not
# one each (about 5 µs a call on a busy VM). A forked process drops the block it inherited,
# so it never hands out the ids its parent does.
_RANDOM_BLOCK = 4000  # bytes
_random = threading.local()


def _random_digits() -> str:
    state = _random.__dict__
    digits: str = state.get("digits", "")
    at: int = state.get("at", 0)
    if at >= len(digits):
        digits, at = os.urandom(_RANDOM_BLOCK).hex(), 0
        state["digits"] = digits
    state["at"] = at + 20
    return digits[at : at + 20]


def _drop_random_block() -> None:
    _random.__dict__.clear()


os.register_at_fork(after_in_child=_drop_random_block)
