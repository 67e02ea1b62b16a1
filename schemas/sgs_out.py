"""A hub penalty record as the cells of a 双公示 row, by the field table: what the 前置机 file drop
writes and the national connector sends. The parser (`schemas.sgs`) reads such a row back into
the same record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from schemas.sgs_fields import yuan_wan
from schemas.sgs_table import FIELDS, ID_CODES, NO_END, SUBJECT_LABELS

# Paths of personal ID numbers: a masked one (110105********002X) is not a number to write.
_ID_PATHS = frozenset(f.path for f in FIELDS if f.code in ID_CODES)


def record_cells(record: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty cells of one penalty record's 双公示 row. ValueError, naming the record's
    field but never its value, when a value cannot be a cell.

    A record without an end date (valid_until) has CF_YXQ 长期; one without a 数据来源单位 was
    reported by its deciding authority, which is then the source.
    """
    cells: dict[str, str] = {}
    for f in FIELDS:
        text = _CELL[f.kind](_at(record, f.path), f.path)
        if text and not (f.path in _ID_PATHS and "*" in text):
            cells[f.code] = text
    cells.setdefault("CF_YXQ", NO_END)
    if "CF_SJLY" not in cells:
        cells.pop("CF_SJLYDM", None)
        for name, code in (("CF_SJLY", "CF_CFJG"), ("CF_SJLYDM", "CF_CFJGDM")):
            if code in cells:
                cells[name] = cells[code]
    return cells


def without_id_number(record: Mapping[str, Any]) -> bool:
    """Whether the record's subject is a person it names without the ID number the row needs:
    a person a hub received from another hub, which travel as a masked number and a hash. The
    hub that decided the record, which holds the number, reports it."""
    subject = record.get("subject")
    return (
        isinstance(subject, Mapping)
        and subject.get("type") == "person"
        and not subject.get("id_number")
    )


WITHOUT_ID_NUMBER = "not exchanged: a person received from another hub (no ID number here)"

# The required cells of a row that record_cells fills when the record is silent: the end date
# (长期) and the data source (the deciding authority). Every other required cell needs a value.
_FILLED = frozenset({"CF_YXQ", "CF_SJLY", "CF_SJLYDM"})
_NEEDED = tuple(f for f in FIELDS if f.required and f.code not in _FILLED)


def missing_for_exchange(record: Mapping[str, Any]) -> list[str]:
    """What a penalty record lacks that its 双公示 row requires, each as "field (code)": the
    API takes a penalty without them, but the national exchange and a 前置机 refuse the row."""
    missing = []
    for f in _NEEDED:
        try:
            value = _at(record, f.path)
        except ValueError:
            continue  # not an object where one belongs: record_cells says so, naming it
        if not (_categories(value, f.path) if f.kind == "categories" else _text(value)):
            missing.append(f"{f.path} ({f.code})")
    return missing


def not_exchangeable(missing: list[str]) -> str:
    """Why a penalty is not exchanged nationally: what intake warns and the connectors skip."""
    return "cannot be exchanged nationally: its 双公示 row needs " + ", ".join(missing)


def _at(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path; None where an enclosing object is absent."""
    value: Any = record
    done = ""
    for name in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError(f"{done}: must be an object")
        value = value.get(name)
        done = f"{done}.{name}" if done else name
    return value


def _text(value: Any, path: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _type(value: Any, path: str) -> str:
    label = SUBJECT_LABELS.get(value) if isinstance(value, str) else None
    if label is None:
        raise ValueError(f"{path}: expected organization, individual_business or person")
    return label


def _amount(value: Any, path: str) -> str:
    if value is None or value == "":
        return ""
    try:
        return yuan_wan(value)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _categories(value: Any, path: str) -> str:
    if isinstance(value, list | tuple):
        return ";".join(t for t in map(_text, value) if t)
    return _text(value)


_CELL: dict[str, Callable[[Any, str], str]] = {
    "text": _text,
    "date": _text,
    "type": _type,
    "amount": _amount,
    "categories": _categories,
}
