"""Reading a JSON body: orjson, then two limits no schema can state.

- Depth: a body nested deeper than `[server] json_max_depth` (arrays and objects) is refused
  before anything walks it recursively (orjson itself stops at 1024).
- NUL: no text may hold U+0000 (PostgreSQL text cannot store it). JSON can only write it as the
  escape `\\u0000`, so the raw bytes are searched for that first (a byte scan, free on the
  common path); only a body that has it is walked, to name the field.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import orjson

NUL_MESSAGE = "holds a NUL character (\\u0000), which no text may hold"


class BodyRefused(Exception):
    """The body is JSON but breaks a limit: `status` 400 (too deep) or 422 (a NUL, named)."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def read(data: bytes | str, max_depth: int, refuse_nul: bool = True) -> Any:
    """The parsed body; orjson.JSONDecodeError when it is not JSON, BodyRefused past a limit."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):  # deeper than orjson's own limit (1024)
            raise too_deep(max_depth) from None
        raise
    raw = data.encode() if isinstance(data, str) else data
    if isinstance(value, dict | list) and depth(raw) > max_depth:
        raise too_deep(max_depth)
    if refuse_nul and b"\\u0000" in raw and (found := nul_paths(value)):
        raise BodyRefused(422, "text may not hold a NUL character", found)
    return value


def too_deep(max_depth: int) -> BodyRefused:
    message = f"the JSON body is nested too deep: at most {max_depth} levels"
    return BodyRefused(400, message, {"json": [message]})


def depth(data: bytes) -> int:
    """How deep arrays and objects nest in a body orjson has read, from its bytes with C-speed
    bytes operations only (walking the parsed value cost more than parsing it). Escaped
    backslashes, then escaped quotes, are dropped; of the rest only brackets and quotes are
    kept. An adjacent pair of quotes holds no bracket inside a string or between two, so it goes
    too; of what is left, the parts between quotes are inside strings. The brackets outside are
    the document's structure, and the deepest point of their running sum is its depth."""
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in kept:
        kept = b"".join(kept.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, kept)), default=0)


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = [0] * 256
for _opener, _closer in (b"[]", b"{}"):
    _STEP[_opener], _STEP[_closer] = 1, -1


def nul_paths(value: Any, prefix: str = "") -> dict[str, list[str]]:
    """Each place in a parsed body whose text (a key or a string) holds NUL, as dotted paths."""
    found: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                found[path or "json"] = [NUL_MESSAGE]
        elif isinstance(item, dict):
            for key, inner in item.items():
                where = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    found[where.replace("\x00", "\\u0000")] = [NUL_MESSAGE]
                else:
                    stack.append((where, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item))
    return found
