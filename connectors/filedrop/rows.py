"""Hub records <-> 双公示 CSV rows for the 前置机 file drop (domain.md §3).

Outbound: one feed item becomes one row of the current field codes plus five exchange columns
(OP, ORIGIN_HUB, ORIGIN_ID, ORIGIN_VERSION, CURSOR). Every row is checked with the 双公示 parser
before it is written, so a department never receives a row its own reader would refuse.
Inbound: a parsed row becomes a feed item with an origin of this drop.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from schemas.cells import safe_cell
from schemas.sgs import SgsRow, map_row
from schemas.sgs_out import record_cells
from schemas.sgs_table import CURRENT_NAMES, LEGACY_CODES, norm

CODES: tuple[str, ...] = tuple(CURRENT_NAMES)
EXTRA: tuple[str, ...] = ("OP", "ORIGIN_HUB", "ORIGIN_ID", "ORIGIN_VERSION", "CURSOR")
HEADER: tuple[str, ...] = CODES + EXTRA
OPS: tuple[str, ...] = ("upsert", "revoke", "repair", "expire")
_MAPPING: dict[str, str] = {code: code for code in CODES}
_ID_LIKE = re.compile(r"\d{14,17}[\dXx]")


class RowError(ValueError):
    """A change that cannot become a 双公示 row; the message names the field, never its value."""


def mask(text: str) -> str:
    """Hide anything shaped like an ID number in a message. The rows' own ID columns need no
    more: the parser keeps them masked in the raw row, and its messages never echo them."""
    return _ID_LIKE.sub("<masked>", text)


# ---------------------------------------------------------------------------------------------
# Outbound


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record_row(change: Mapping[str, Any], today: date) -> dict[str, str]:
    """The 双公示 row of one penalty change; RowError when it cannot be one."""
    record = change.get("record")
    if not isinstance(record, Mapping):
        raise RowError("record: must be an object")
    op = _text(change.get("op")) or "upsert"
    if op not in OPS:
        raise RowError(f"op: expected one of {', '.join(OPS)}")
    origin = record.get("origin") or {}
    if not isinstance(origin, Mapping):
        raise RowError("origin: must be an object")
    try:
        cells = record_cells(record)
    except ValueError as exc:
        raise RowError(str(exc)) from None
    row = dict.fromkeys(HEADER, "")
    row.update(cells)
    row.update(
        OP=op,
        ORIGIN_HUB=_text(origin.get("hub")),
        ORIGIN_ID=_text(origin.get("id")),
        ORIGIN_VERSION=_text(origin.get("version")),
        CURSOR=_text(change.get("cursor")),
    )
    checked = map_row(0, row, _MAPPING, today)
    if checked.errors:
        reasons = "; ".join(f"{code}: {', '.join(msgs)}" for code, msgs in checked.errors.items())
        raise RowError(f"not a valid 双公示 row: {reasons}")
    return row


def encode_rows(rows: Iterable[Mapping[str, str]], codec: str) -> bytes:
    """CSV bytes of rows in HEADER order (no header); UnicodeEncodeError if a cell cannot be.
    A cell a spreadsheet would run as a formula is written as text (`schemas.cells`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(row.get(name, "")) for name in HEADER])
    return out.getvalue().encode(codec)


# ---------------------------------------------------------------------------------------------
# Inbound


def stable_id(record: Mapping[str, Any]) -> str:
    """The origin id of a read record: its natural key (authority, 文号, subject), hashed."""
    subject = record.get("subject") or {}
    legacy = subject.get("legacy_codes") or {}
    if subject.get("uscc"):
        who = "uscc:" + str(subject["uscc"]).upper()
    else:
        scheme = next((key for key in LEGACY_CODES.values() if legacy.get(key)), None)
        # A person is keyed by name, not by ID number: 18 digits of region, birth date and
        # sequence are few enough to recover from a hash, and the id travels everywhere.
        who = f"{scheme}:{legacy[scheme]}" if scheme else "name:" + str(subject.get("name", ""))
    key = "\x1f".join((str(record["authority"]["uscc"]).upper(), str(record["ref"]), who))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class Columns:
    """What the reader needs from a file's columns: the exchange columns.

    Learned from the rows themselves: JSON rows each carry their own keys, so a later row may
    name a column the first one lacked.
    """

    def __init__(self) -> None:
        self.extra: dict[str, str] = {}
        self._seen: set[str] = set()

    def learn(self, raw: Mapping[str, str]) -> None:
        if raw.keys() <= self._seen:
            return
        for name in raw.keys() - self._seen:
            key = norm(name)
            if key in EXTRA:
                self.extra.setdefault(key, name)
        self._seen.update(raw)

    def get(self, raw: Mapping[str, str], name: str) -> str:
        column = self.extra.get(name)
        return str(raw.get(column, "")).strip() if column else ""


def feed_item(
    row: SgsRow, columns: Columns, hub_id: str
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """(feed item, {}) for a valid row, or (None, errors by field)."""
    errors = dict(row.errors)
    op = columns.get(row.raw, "OP").lower() or "upsert"
    if op not in OPS:
        errors["OP"] = [f"unknown operation {op[:20]!r}: expected {', '.join(OPS)}"]
    text = columns.get(row.raw, "ORIGIN_VERSION")
    version = int(text) if text.isascii() and text.isdigit() else 0
    if text and version < 1:
        errors["ORIGIN_VERSION"] = [f"not a positive whole number: {text[:20]!r}"]
    if errors or row.record is None:
        return None, errors or {"_row": ["not a record"]}
    origin = {"hub": hub_id, "id": stable_id(row.record), "version": version or 1}
    # The operation is the state the record is in at its origin: a revocation, repair or
    # expiry arriving by file lifts the restriction here as it would from a peer hub.
    record = {**row.record, "origin": origin, "status": _STATUS_OF[op]}
    return {"op": op, "record": record}, {}


_STATUS_OF = {"upsert": "active", "revoke": "revoked", "repair": "repaired", "expire": "expired"}


def row_messages(file: str, row: SgsRow, errors: dict[str, list[str]]) -> list[str]:
    """One "file X row N: field: reason" line per reason, ID numbers masked."""
    return [
        mask(f"file {file} index {row.index}: {code}: {reason}")
        for code, reasons in errors.items()
        for reason in reasons
    ]


_UNKNOWN = "unknown columns ignored (kept in raw): "


def header_warnings(file: str, warnings: Iterable[str]) -> list[str]:
    """The parser's header warnings, without calling our own exchange columns unknown."""
    ours = {repr(name) for name in EXTRA}
    out: list[str] = []
    for warning in warnings:
        if warning.startswith(_UNKNOWN):
            rest = [n for n in warning[len(_UNKNOWN) :].split(", ") if n not in ours]
            if not rest:
                continue
            warning = _UNKNOWN + ", ".join(rest)
        out.append(mask(f"file {file}: {warning}"))
    return out
