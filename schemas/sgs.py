"""Edge parser of the national 双公示 administrative-penalty format (CSV, xlsx, JSON)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

from schemas.sgs_fields import (
    ABSENT,
    CANONICAL,
    CURRENT_NAMES,
    LEGACY_CODES,
    LICENSE,
    REQUIRED,
    SUBJECT_TYPES,
    amount_yuan,
    license_category,
    norm,
    parse_date,
    resolve,
    show,
    split_categories,
)

__all__ = [
    "SgsFormatError",
    "SgsRow",
    "SgsRows",
    "detect_and_read",
    "map_header",
    "map_row",
    "parse_rows",
]


class SgsFormatError(ValueError):
    """The file as a whole cannot be read; the message says why."""


@dataclass(slots=True)
class SgsRow:
    """One data row: the hub record built from it, or the reasons it could not be built."""

    index: int
    record: dict[str, Any] | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


class _Misaligned(dict[str, str]):
    """A raw row whose cell count differs from the header's; map_row turns it into a _row error."""

    __slots__ = ("cells", "expected")

    def __init__(self, header: list[str], cells: list[str]) -> None:
        """Keep every cell: those past the header under their 1-based column number."""
        super().__init__(zip(header, cells, strict=False))
        for pos in range(len(header), len(cells)):
            self[f"#{pos + 1}"] = cells[pos]
        self.cells = len(cells)
        self.expected = len(header)


# ---------------------------------------------------------------------------------------------
# Reading: bytes -> (header, raw rows)

_NON_SPACE = re.compile(r"\S")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),  # Excel's "Unicode text" export
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_HEADER_SEARCH = 5  # title rows above the header that a template may carry


def detect_and_read(
    data: bytes, content_type: str | None = None
) -> tuple[list[str], Iterable[dict[str, str]]]:
    """Read an xlsx, JSON or CSV 双公示 file into (header as received, raw rows)."""
    # content_type is accepted for the caller's convenience only: uploads are often mislabelled
    # (xlsx sent as application/octet-stream, GBK sent as charset=utf-8), so the bytes decide.
    del content_type
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    text = _decode(data)
    first = _NON_SPACE.search(text)
    if first is None:
        raise SgsFormatError("empty file")
    if first.group() in "{[":
        return _read_json(text)
    return _read_csv(text, first.start())


def _decode(data: bytes) -> str:
    """Decode CSV/JSON bytes strictly: a BOM wins, then UTF-8, then GB18030 (a superset of GBK)."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise SgsFormatError(
                    f"the file starts with a {name} byte-order mark but byte offset "
                    f"{exc.start + len(bom)} is not {name} (mixed encodings?)"
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_at = exc.start
    try:
        # Python's gbk and gb18030 codecs agree on every GBK sequence and gbk is the faster one;
        # gb18030 then reads what GBK lacks (four-byte sequences) or proves the file unreadable.
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SgsFormatError(
            f"the file is neither UTF-8 (invalid at byte offset {utf8_at}) nor GB18030/GBK "
            f"(invalid at byte offset {exc.start})"
        ) from None
    _reject_utf8_lines(data, utf8_at)
    return text


def _reject_utf8_lines(data: bytes, utf8_at: int) -> None:
    """Refuse a GB18030-decodable file that also holds UTF-8 lines: they would become mojibake."""
    # UTF-8 Chinese often decodes as GB18030 without any error, so strictness alone cannot see a
    # file where an editor appended UTF-8 lines to a GBK export; a whole non-ASCII line that is
    # valid UTF-8 is that signature (real GBK text is practically never valid UTF-8).
    offset = 0
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise SgsFormatError(
                    f"mixed encodings: line {number} (byte offset {offset}) is UTF-8 but byte "
                    f"offset {utf8_at} is not; save the whole file in one encoding"
                )
        offset += len(line) + 1


def _read_csv(text: str, start: int) -> tuple[list[str], Iterable[dict[str, str]]]:
    """Split CSV or TSV text; the delimiter is whichever of tab and comma the lines where the
    header may be (title rows, then the header) use more."""
    end = start
    for _ in range(_HEADER_SEARCH + 1):  # the end of those lines, the text not copied
        found = text.find("\n", end)
        end = len(text) if found < 0 else found + 1
    head = text[start:end]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    lines = _one_row_a_line(text)
    if lines is not None:
        return _CsvLines.of(lines, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    return _tabular(reader, pad_short=False, strip=True)


def _one_row_a_line(text: str) -> list[str] | None:
    """The text's lines if each is one row and no cell can fail to read: no quotes (so no cell
    spans lines), no NUL, no line ended by a lone CR, no line longer than a cell may be."""
    if '"' in text or "\0" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")
    return lines if max(map(len, lines)) <= csv.field_size_limit() else None


class _CsvLines(Sequence[dict[str, str]]):
    """The data rows of a CSV file whose lines are its rows (see `_one_row_a_line`), each read
    when it is asked for: the file is split into lines at once, and its rows read a range at a
    time where they are checked (an import's processes read their own batches)."""

    def __init__(self, header: list[str], lines: list[str], delimiter: str) -> None:
        self._header, self._lines, self._delimiter = header, lines, delimiter

    @classmethod
    def of(cls, lines: list[str], delimiter: str) -> tuple[list[str], _CsvLines]:
        reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
        header, _ = _tabular(reader, pad_short=False, strip=True)
        # What the reader skips: lines of nothing but spaces and delimiters.
        rest = [line for line in lines[reader.line_num :] if line.replace(delimiter, "").strip()]
        first = next(csv.reader(rest[:1], delimiter=delimiter, skipinitialspace=True), [])
        if rest and all(resolve(c) for c in map(str.strip, first) if c):
            rest = rest[1:]  # a row of codes under the row of Chinese names
        return header, cls(header, rest, delimiter)

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[dict[str, str]]:
        return self._rows(self._lines)

    @overload
    def __getitem__(self, index: int) -> dict[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, str]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(index, slice):
            return list(self._rows(self._lines[index]))
        return next(self._rows([self._lines[index]]))

    def _rows(self, lines: list[str]) -> Iterator[dict[str, str]]:
        # A row of codes under the header is dropped by `of`, never here.
        reader = csv.reader(lines, delimiter=self._delimiter, skipinitialspace=True)
        return _dict_rows(self._header, reader, pad_short=False, strip=True, codes_row=False)


def _read_xlsx(data: bytes) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Stream the first sheet of a workbook; cell values become strings."""
    from openpyxl import load_workbook  # imported here: only xlsx uploads pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # zipfile, XML and openpyxl errors alike mean "not a readable xlsx"
        msg = f"the xlsx file cannot be opened (truncated or damaged?): {exc}"
        raise SgsFormatError(msg) from None

    def cells() -> Iterator[list[str]]:
        try:
            for row in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in row]
        except Exception as exc:
            raise SgsFormatError(f"the xlsx sheet cannot be read: {exc}") from None
        finally:
            book.close()

    return _tabular(cells(), pad_short=True, strip=False)  # _cell_text strips


def _read_json(text: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Read {"rows": [...]} or a bare list of row objects; the header is the union of their keys."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise SgsFormatError(msg) from None
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise SgsFormatError('JSON must be {"rows": [...]} or a list of row objects')
    if not rows:
        raise SgsFormatError("JSON has no rows")
    header: dict[str, None] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise SgsFormatError(f"JSON rows[{i}] is not an object")
        header.update(dict.fromkeys(row))
    # JSON rows are never skipped, even empty ones: the API's index must match the array index.
    return list(header), ({k: _cell_text(v) for k, v in row.items()} for row in rows)


def _cell_text(value: object) -> str:
    """One xlsx or JSON value as the text a CSV export would carry."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):  # before date: datetime is a date subclass
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")  # repr is the shortest exact form: 0.2 stays 0.2
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _tabular(
    rows: Iterator[list[str]], pad_short: bool, strip: bool
) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Find the header row (skipping template title rows) and turn later rows into dicts."""
    lead: list[list[str]] = []
    header: list[str] | None = None
    try:
        for cells in rows:
            if strip:
                cells = list(map(str.strip, cells))
            if not any(cells):
                continue
            if any(resolve(c) for c in cells if c):
                header = cells
                break
            lead.append(cells)
            if len(lead) == _HEADER_SEARCH:
                break
    except csv.Error as exc:
        raise SgsFormatError(f"CSV cannot be read: {exc}") from None
    if header is None:
        if not lead:
            raise SgsFormatError("empty file")
        header = lead[0]  # map_header will say it has no known column
    while header and not header[-1]:
        header.pop()
    return header, _dict_rows(header, rows, pad_short, strip)


def _dict_rows(
    header: list[str],
    rows: Iterator[list[str]],
    pad_short: bool,
    strip: bool,
    codes_row: bool = True,
) -> Iterator[dict[str, str]]:
    """Yield data rows as dicts keyed by the header; rows of the wrong width are flagged.
    `codes_row`: the first row may be a row of codes under the header, to be skipped."""
    width = len(header)
    first = codes_row
    try:
        for cells in rows:
            if strip:
                cells = list(map(str.strip, cells))
            if not any(cells):
                continue
            if first:
                first = False
                # Some templates put a row of codes under the row of Chinese names: skip it.
                if all(resolve(c) for c in cells if c):
                    continue
            if len(cells) != width:
                if len(cells) > width and not any(cells[width:]):
                    cells = cells[:width]  # trailing empty cells: a comma at each line's end
                elif len(cells) < width and pad_short:
                    cells = cells + [""] * (width - len(cells))  # Excel omits trailing empties
                else:
                    yield _Misaligned(header, cells)
                    continue
            yield dict(zip(header, cells, strict=False))  # widths checked above
    except csv.Error as exc:
        raise SgsFormatError(f"CSV cannot be read: {exc}") from None


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
            unknown.append(show(name.strip()))
        elif name in mapping:
            warnings.append(f"column {show(name)} appears more than once: its last cell is kept")
        else:
            mapping[name] = CANONICAL.get(src, src)
    if not mapping:
        shown = ", ".join(show(h) for h in header[:8])
        raise SgsFormatError(f"header has no known 双公示 column: {shown}")
    if unknown:
        warnings.append("unknown columns ignored (kept in raw): " + ", ".join(unknown))
    by_code: dict[str, list[str]] = {}
    for name, code in mapping.items():
        by_code.setdefault(code, []).append(name)
    for code, names in by_code.items():
        if len(names) > 1 and code != "CF_CFLB":
            shown = ", ".join(map(show, names))
            warnings.append(f"columns {shown} all map to {code}; they must agree")
    missing = [code for code in REQUIRED if code not in by_code]
    if missing:
        warnings.append("header lacks required columns, every row will fail: " + ", ".join(missing))
    return mapping, warnings


_LEGAL_REP = (("CF_FRDB", "name"), ("CF_FR_ZJLX", "id_type"), ("CF_FR_ZJHM", "id_number"))


@dataclass(frozen=True, slots=True)
class _Plan:
    """What map_row needs from a mapping, computed once per file instead of once per row."""

    single: tuple[tuple[str, str], ...]  # (column, code) for codes that one column maps to
    multi: tuple[tuple[str, tuple[str, ...]], ...]  # (code, columns) for codes several map to
    missing: dict[str, str]  # required code absent from the header -> its error message
    sfz_column: str | None  # a 2016 CF_XDR_SFZ column: its numbers are 身份证 numbers
    legacy: tuple[tuple[str, str], ...]  # (code, legacy_codes key) for those in the header
    legal_rep: tuple[tuple[str, str], ...]  # (code, legal_rep key) for those in the header
    identity: bool  # one column per code, named by the code itself, every required one present

    @classmethod
    def of(cls, mapping: dict[str, str]) -> _Plan:
        """Build the plan of one header mapping."""
        columns: dict[str, list[str]] = {}
        for col, code in mapping.items():
            if code in CURRENT_NAMES:  # known-but-unused 2016 columns stay out of the record
                columns.setdefault(code, []).append(col)
        single = tuple((cols[0], code) for code, cols in columns.items() if len(cols) == 1)
        multi = tuple((code, tuple(cols)) for code, cols in columns.items() if len(cols) > 1)
        absent = "required column is missing from the header"
        missing = {code: absent for code in REQUIRED if code not in columns}
        sfz = next((col for col in mapping if resolve(col) == "CF_XDR_SFZ"), None)
        legacy = tuple((c, key) for c, key in LEGACY_CODES.items() if c in columns)
        legal_rep = tuple((c, key) for c, key in _LEGAL_REP if c in columns)
        identity = not multi and not missing and all(col == code for col, code in single)
        return cls(single, multi, missing, sfz, legacy, legal_rep, identity)


# ---------------------------------------------------------------------------------------------
# Rows


def parse_rows(
    data: bytes, content_type: str | None = None, today: date | None = None
) -> tuple[list[str], SgsRows]:
    """Parse a whole 双公示 file: (header-level warnings, the data rows, each checked as it is
    taken)."""
    header, raw_rows = detect_and_read(data, content_type)
    mapping, warnings = map_header(header)
    # The whole file is read here, so a damaged one (a CSV cut inside a quoted cell, a broken
    # sheet) is refused before any row is taken; checking the rows is left to the consumer.
    raws = raw_rows if isinstance(raw_rows, _CsvLines) else list(raw_rows)
    return warnings, SgsRows(raws, _Plan.of(mapping), today or date.today())


class SgsRows:
    """A file's data rows, read; each is checked (`SgsRow`) when it is taken, whether in order
    or a range at a time (an import's processes each take their own batches)."""

    def __init__(self, raws: Sequence[dict[str, str]], plan: _Plan, day: date) -> None:
        self._raws, self._plan, self._day = raws, plan, day

    def __len__(self) -> int:
        return len(self._raws)

    def __iter__(self) -> Iterator[SgsRow]:
        plan, day = self._plan, self._day
        return (_map(i, raw, raw, plan, day) for i, raw in enumerate(self._raws))

    def take(self, start: int, stop: int) -> list[SgsRow]:
        """Rows start..stop-1 (by position among the data rows), checked."""
        plan, day = self._plan, self._day
        # The readers already strip every cell, so each row is its own lookup table.
        raws = self._raws[start:stop]
        return [_map(i, raw, raw, plan, day) for i, raw in enumerate(raws, start)]


def map_row(index: int, raw: dict[str, str], mapping: dict[str, str], today: date) -> SgsRow:
    """Validate one raw row and build its hub record (the record is None when there are errors)."""
    # Callers may hand over JSON-typed values: read them the way the JSON reader does.
    cells = {k: _cell_text(c) for k, c in raw.items()}
    return _map(index, raw, cells, _Plan.of(mapping), today)


_PLACEHOLDERS = ABSENT - {""}
_DIGIT = re.compile(r"\d")


def _map(index: int, raw: dict[str, str], cells: dict[str, str], plan: _Plan, day: date) -> SgsRow:
    """map_row on stripped cells with the per-file work already done."""
    if isinstance(raw, _Misaligned):
        msg = f"row has {raw.cells} cells, the header {raw.expected}: truncated or misaligned"
        return SgsRow(index, None, {"_row": [msg]}, [], raw)
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    get = cells.get
    # v: field code -> value, where an empty value means absent. A header of current codes is
    # the usual machine export; its rows are their own table unless a placeholder needs blanking.
    if plan.identity and _PLACEHOLDERS.isdisjoint(cells.values()):
        v = cells
    else:
        v = {code: s for col, code in plan.single if (s := get(col, "")) not in ABSENT}
        for code, cols in plan.multi:
            values = [s for col in cols if (s := get(col, "")) not in ABSENT]
            if code == "CF_CFLB" and values:
                v[code] = ";".join(values)  # 2016 CF_CFLB1 + CF_CFLB2
            elif len(set(values)) > 1:  # not echoed: the field may hold ID numbers
                errors[code] = ["two columns map to this field with different values"]
            elif values:
                v[code] = values[0]
    if not all(map(v.get, REQUIRED)):
        for code in REQUIRED:
            if not v.get(code):
                errors[code] = [plan.missing.get(code) or "required value is empty"]

    kind = v.get("CF_XDR_LB")
    subject_type = SUBJECT_TYPES.get(kind) if kind else None
    if kind and subject_type is None:
        errors["CF_XDR_LB"] = [
            f"unknown 行政相对人类别 {show(kind)}: expected 法人及非法人组织, 个体工商户 or 自然人"
        ]
    if subject_type == "person":
        if not v.get("CF_XDR_ZJHM"):
            errors["CF_XDR_ZJHM"] = ["a natural person needs an ID number (证件号码)"]
    elif subject_type and not v.get("CF_XDR_SHXYM") and not any(map(v.get, LEGACY_CODES)):
        errors["CF_XDR_SHXYM"] = [
            "an organization or individual business needs a unified social credit code or a "
            "legacy code (工商注册号, 组织机构代码, 税务登记号, 事业单位证书号, 社会组织登记证号)"
        ]
    ref = v.get("CF_WSH")
    if ref and len(ref) > 128:
        errors["CF_WSH"] = ["longer than 128 characters"]

    decided = _date(v, "CF_JDRQ", errors)
    if decided and decided[0] > day:
        errors["CF_JDRQ"] = [f"decision date {decided[1]} is in the future"]
    valid_until = None
    text = v.get("CF_YXQ")
    if text:
        valid_until = parse_date(text)
        if valid_until is None and _DIGIT.search(text):  # no digits: "长期" etc., no end date
            errors["CF_YXQ"] = [f"not a date (expected YYYY-MM-DD or 长期): {show(text)}"]
    publish_until = _date(v, "CF_GSJZQ", errors)
    if decided:
        if valid_until and valid_until[0] < decided[0]:
            errors["CF_YXQ"] = [f"{valid_until[1]} is before the decision date (CF_JDRQ)"]
        if publish_until and publish_until[0] < decided[0]:
            errors["CF_GSJZQ"] = [f"{publish_until[1]} is before the decision date (CF_JDRQ)"]
    fine = _amount(v, "CF_NR_FK", errors)
    confiscated = _amount(v, "CF_NR_WFFF", errors)
    categories = _categories(v, errors, warnings)
    if "罚款" in categories and not v.get("CF_NR_FK"):
        warnings.append("处罚类别 includes 罚款 but CF_NR_FK (fine in 万元) is empty")
    if errors or decided is None or subject_type is None:
        return SgsRow(index, None, errors, warnings, raw)

    subject: dict[str, Any] = {"type": subject_type, "name": v["CF_XDR_MC"]}
    if v.get("CF_XDR_SHXYM"):
        subject["uscc"] = v["CF_XDR_SHXYM"]
    if plan.legacy:
        legacy = {key: v[code] for code, key in plan.legacy if v.get(code)}
        if legacy:
            subject["legacy_codes"] = legacy
    id_number = v.get("CF_XDR_ZJHM")
    if id_number:
        id_type = v.get("CF_XDR_ZJLX")
        if not id_type and plan.sfz_column and get(plan.sfz_column) == id_number:
            id_type = "身份证"  # the 2016 column held 居民身份证 numbers only
        if id_type:
            subject["id_type"] = id_type
        subject["id_number"] = id_number
    elif v.get("CF_XDR_ZJLX"):
        subject["id_type"] = v["CF_XDR_ZJLX"]
    if plan.legal_rep:
        legal_rep = {key: v[code] for code, key in plan.legal_rep if v.get(code)}
        if legal_rep:
            subject["legal_rep"] = legal_rep
    record: dict[str, Any] = {
        "kind": "penalty",
        "ref": v["CF_WSH"],
        "subject": subject,
        "authority": {"name": v["CF_CFJG"], "uscc": v["CF_CFJGDM"]},
        "source": {"name": v["CF_SJLY"], "uscc": v["CF_SJLYDM"]},
        "decided_on": decided[1],
        "categories": categories,
        "violation": v["CF_WFXW"],
        "facts": v["CF_SY"],
        "basis": v["CF_YJ"],
        "content": v["CF_NR"],
    }
    if fine is not None:
        record["fine_yuan"] = fine
    if confiscated is not None:
        record["confiscated_yuan"] = confiscated
    if v.get("CF_NR_ZKDX"):
        record["license_action"] = v["CF_NR_ZKDX"]
    if valid_until:
        record["valid_until"] = valid_until[1]
    if publish_until:
        record["publish_until"] = publish_until[1]
    if v.get("BZ"):
        record["note"] = v["BZ"]
    return SgsRow(index, record, errors, warnings, raw)


def _date(v: dict[str, str], code: str, errors: dict[str, list[str]]) -> tuple[date, str] | None:
    """Parse a date field if present, recording an error when it is not a date."""
    text = v.get(code)
    if not text:
        return None
    parsed = parse_date(text)
    if parsed is None:
        errors[code] = [f"not a date (expected YYYY-MM-DD): {show(text)}"]
    return parsed


def _amount(v: dict[str, str], code: str, errors: dict[str, list[str]]) -> str | None:
    """Convert an amount field in 万元 to yuan text if present, recording an error if invalid."""
    text = v.get(code)
    if not text:
        return None
    yuan, error = amount_yuan(text)
    if error:
        errors[code] = [error]
    return yuan


def _categories(v: dict[str, str], errors: dict[str, list[str]], warnings: list[str]) -> list[str]:
    """Split 处罚类别 into current categories; resolve the 2016 "暂扣或者吊销" wording."""
    cell = v.get("CF_CFLB")
    if not cell:
        return []
    found, unknown = split_categories(cell)
    if unknown:
        errors["CF_CFLB"] = ["unknown 处罚类别: " + ", ".join(map(show, unknown))]
    elif not found:
        errors["CF_CFLB"] = ["required value is empty"]
    if LICENSE not in found:
        return list(found)
    actual = license_category(v.get("CF_NR", "") + "\n" + v.get("CF_NR_ZKDX", ""))
    if actual is None:
        actual = "其他"
        warnings.append(
            "2016 处罚类别 暂扣或者吊销许可证/执照: CF_NR and CF_NR_ZKDX say neither 暂扣 "
            "nor 吊销, recorded as 其他"
        )
    out: list[str] = []
    for cat in found:
        cat = actual if cat == LICENSE else cat
        if cat not in out:
            out.append(cat)
    return out
