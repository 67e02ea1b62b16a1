"""A record's edges: each turns what arrived into the checked fields `prepare` normalises.

The JSON API's (and a peer's) loader is the record schema; the 双公示 parser has already checked
every field, so its loader only turns ISO texts into dates and decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from credithub.errors import Invalid
from schemas.fastload import Decline, compile_loader
from schemas.records import RecordInSchema

_SCHEMA = RecordInSchema()
_COMPILED = compile_loader(_SCHEMA)
_FAST = _COMPILED
DATE_FIELDS = ("decided_on", "occurred_on", "listed_on", "awarded_on")
_ALL_DATES = (*DATE_FIELDS, "valid_until", "publish_until", "expires_on")
Loader = Callable[[Any], dict[str, Any]]


def load_api_record(item: Any) -> dict[str, Any]:
    """The JSON API's edge (and a peer's): the record schema checks shape, types and limits.

    A record in the plain form (what departments' systems and peers send) takes the schema's
    compiled path (`schemas.fastload`: what `load` gives, at a ninth of the cost); anything it
    cannot vouch for goes through the schema itself, with the schema's own errors. With
    `[ingest] compiled_loader = false`, every record goes through the schema.
    """
    if _FAST is not None:
        try:
            return _FAST(item)
        except Decline:
            pass
    return load_by_schema(item)


def use_compiled_loader(on: bool) -> None:
    """`[ingest] compiled_loader`: false loads every record through the schema itself (the
    plain path). It holds for the process (and the helpers it forks); the app sets it when
    it is built."""
    global _FAST
    _FAST = _COMPILED if on else None


def load_by_schema(item: Any) -> dict[str, Any]:
    """`load_api_record` through marshmallow's own machinery."""
    if not isinstance(item, dict):
        raise Invalid("a record must be an object", {"record": ["must be an object"]})
    try:
        data: dict[str, Any] = _SCHEMA.load(item)
    except ValidationError as exc:
        raise Invalid("the record is not valid", _flatten(exc.normalized_messages())) from None
    return data


def load_checked_record(item: dict[str, Any]) -> dict[str, Any]:
    """A record from an edge parser that already checked every field (the 双公示 parser):
    only its ISO texts become dates and decimals."""
    data = dict(item)
    for name in _ALL_DATES:
        if name in data:
            data[name] = date.fromisoformat(data[name])
    for name in ("fine_yuan", "confiscated_yuan"):
        if name in data:
            data[name] = Decimal(data[name])
    return data


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dicts as flat dotted keys: {"subject.name": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(_flatten(value, name))
            else:
                flat[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    else:
        flat[prefix or "record"] = [str(messages)]
    return flat
