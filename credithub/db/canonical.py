"""Canonical JSON: the one form every digest is taken of (records' content, the audit chain,
check answers, rule packs)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import date, time
from decimal import Decimal
from typing import Any

import orjson


def canonical_json(value: Any, floats: Iterable[float] | None = None) -> bytes:
    """`value` as canonical JSON, UTF-8: keys sorted by code point, no spaces, text unescaped
    but for what JSON requires. Byte for byte what the standard encoder writes
    (`json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`), with a
    Decimal as its plain digits and a date, time or instant in ISO 8601, each as a string.

    orjson writes it (about 7 times as fast) wherever it writes the same bytes: always, but for
    a float below 1e-4 (not 0), NaN or infinity, an integer beyond 64 bits and a key that is no
    string; the standard encoder writes the rest. `floats`: every float `value` holds, if the
    caller knows them (a record's content holds none: amounts are decimals; a check's answer
    one, its score); otherwise `value` is searched for them.
    """
    if all(map(writes_alike, _floats(value) if floats is None else floats)):
        try:
            return orjson.dumps(value, default=_plain, option=_OPTIONS)
        except orjson.JSONEncodeError:
            pass  # an integer beyond 64 bits or a key that is no string: as the standard one
    return _STANDARD.encode(value).encode()


def writes_alike(value: float) -> bool:
    """Whether orjson writes this float as the standard encoder does."""
    return value == 0 or 1e-4 <= abs(value) < math.inf


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | time):  # a datetime is a date
        return value.isoformat()  # as orjson writes them itself
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _floats(item)


_OPTIONS = orjson.OPT_SORT_KEYS
_STANDARD = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
)
