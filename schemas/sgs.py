"""Edge parser of the national 双公示 administrative-penalty format (CSV, xlsx, JSON): a file's
header mapped to the field table (`schemas.sgs_table`), its rows read, and each row checked and
turned into a hub record when it is taken (`schemas.sgs_row`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from schemas.common import china_today
from schemas.sgs_fields import show
from schemas.sgs_fix import INFERRED, Sender
from schemas.sgs_read import (
    CsvLines,
    SgsFormatError,
    TooManyRows,
    cell_text,
    detect_and_read,
)
from schemas.sgs_row import RowPlan, SgsRow, check_row
from schemas.sgs_table import (
    CANONICAL,
    LEGACY_ONLY,
    NAME_COLUMNS,
    REQUIRED,
    norm,
    resolve,
)

__all__ = [
    "Sender",
    "SgsFormatError",
    "SgsRow",
    "SgsRows",
    "detect_and_read",
    "map_header",
    "map_row",
    "parse_rows",
]

# ---------------------------------------------------------------------------------------------
# Header mapping


def map_header(header: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map received column names to current field codes; warn about unknown or doubled columns."""
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    warnings: list[str] = []
    for name in header:
        if not norm(name):
            continue
        src = resolve(name)
        if src is None:
            unknown.append(name)
        elif name in mapping:
            warnings.append(f"column {show(name)} appears more than once: its last cell is kept")
        else:
            mapping[name] = CANONICAL.get(src, src)
    if not mapping:
        shown = ", ".join(show(h) for h in header[:8])
        raise SgsFormatError(f"header has no known 双公示 column: {shown}")
    by_code: dict[str, list[str]] = {}
    for name, code in mapping.items():
        by_code.setdefault(code, []).append(name)
    names = [c for c in unknown if norm(c) in NAME_COLUMNS] if "CF_XDR_MC" not in by_code else []
    if names:
        warnings.append(f"no CF_XDR_MC column: the subject's name is taken from {names[0]}")
        unknown = [c for c in unknown if c not in names]
    if unknown:
        shown = ", ".join(show(c.strip()) for c in unknown)
        warnings.append("unknown columns ignored (kept in raw): " + shown)
    for code, columns in by_code.items():
        if len(columns) > 1 and code != "CF_CFLB":
            shown = ", ".join(map(show, columns))
            warnings.append(f"columns {shown} all map to {code}; they must agree")
    missing = [code for code in REQUIRED if code not in by_code]
    if names:
        missing.remove("CF_XDR_MC")
    if any(src in LEGACY_ONLY for src in map(resolve, mapping)):
        inferred = [code for code in missing if code in INFERRED]
        if inferred:
            warnings.append(
                "2016 field set: " + ", ".join(inferred) + " inferred row by row (see each row)"
            )
        missing = [code for code in missing if code not in INFERRED]
    if missing:
        warnings.append("header lacks required columns, every row will fail: " + ", ".join(missing))
    return mapping, warnings


# ---------------------------------------------------------------------------------------------
# Rows


def parse_rows(
    data: bytes,
    content_type: str | None = None,
    today: date | None = None,
    sender: Sender | None = None,
    max_rows: int | None = None,
) -> tuple[list[str], SgsRows]:
    """Parse a whole 双公示 file: (header-level warnings, the data rows, each checked as it is
    taken). `sender`: the department sending it (a 2016 file's unit codes are its own).
    `max_rows`: TooManyRows as soon as a row past it is read (an xlsx sheet or a CSV is read
    row by row, so a file of many rows costs no more than max_rows + 1 of them)."""
    header, raw_rows = detect_and_read(data, content_type)
    mapping, warnings = map_header(header)
    # The whole file is read here, so a damaged one (a CSV cut inside a quoted cell, a broken
    # sheet) is refused before any row is taken; checking the rows is left to the consumer.
    if isinstance(raw_rows, CsvLines):
        raws: Sequence[dict[str, str]] = raw_rows  # split into lines only: counting is free
        if max_rows is not None and len(raws) > max_rows:
            raise TooManyRows(max_rows)
    else:
        limit = None if max_rows is None else max_rows + 1
        raws = list(itertools.islice(raw_rows, limit))
        if max_rows is not None and len(raws) > max_rows:
            raise TooManyRows(max_rows)
    return warnings, SgsRows(raws, RowPlan.of(mapping, header, sender), today or china_today())


class SgsRows:
    """A file's data rows, read; each is checked (`SgsRow`) when it is taken, whether in order
    or a range at a time (an import's processes each take their own batches)."""

    def __init__(self, raws: Sequence[dict[str, str]], plan: RowPlan, day: date) -> None:
        self._raws, self._plan, self._day = raws, plan, day

    def __len__(self) -> int:
        return len(self._raws)

    def __iter__(self) -> Iterator[SgsRow]:
        plan, day = self._plan, self._day
        return (check_row(i, raw, raw, plan, day) for i, raw in enumerate(self._raws))

    def take(self, start: int, stop: int) -> list[SgsRow]:
        """Rows start..stop-1 (by position among the data rows), checked."""
        plan, day = self._plan, self._day
        # The readers already strip every cell, so each row is its own lookup table.
        raws = self._raws[start:stop]
        return [check_row(i, raw, raw, plan, day) for i, raw in enumerate(raws, start)]

    def pick(self, positions: Sequence[int]) -> list[SgsRow]:
        """The rows at these positions among the data rows, in this order, checked."""
        plan, day, raws = self._plan, self._day, self._raws
        picked = (
            raws.pick(positions) if isinstance(raws, CsvLines) else [raws[i] for i in positions]
        )
        return [check_row(i, raw, raw, plan, day) for i, raw in zip(positions, picked, strict=True)]

    def cells(self, codes: Sequence[str]) -> list[list[str]]:
        """Each row's cell, as sent, of each of these field codes ("" where none): of the
        columns mapped to a code (a 2016 column counts as the code that replaced it), the first
        that is not empty."""
        columns = [
            [c for c, code in self._plan.single if code == wanted]
            + [c for code, cols in self._plan.multi if code == wanted for c in cols]
            for wanted in codes
        ]
        if isinstance(self._raws, CsvLines):
            return self._raws.cells(columns)
        return [
            [next((v for c in group if (v := raw.get(c))), "") for group in columns]
            for raw in self._raws
        ]


def map_row(
    index: int,
    raw: dict[str, Any],
    mapping: dict[str, str],
    today: date,
    sender: Sender | None = None,
) -> SgsRow:
    """Validate one raw row and build its hub record (the record is None when there are errors)."""
    # Callers may hand over JSON-typed values: read them the way the JSON reader does.
    cells = {k: cell_text(c) for k, c in raw.items()}
    return check_row(index, raw, cells, RowPlan.of(mapping, list(raw), sender), today)
