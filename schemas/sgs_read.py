"""Reading a 双公示 file: bytes (xlsx, JSON, CSV or TSV in any encoding seen) -> the header as
received and the raw rows, each a dict of column name -> cell text."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import overload

from schemas.sgs_table import resolve


class SgsFormatError(ValueError):
    """The file as a whole cannot be read; the message says why."""


class Misaligned(dict[str, str]):
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
        return CsvLines.of(lines, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    return _tabular(reader, pad_short=False, strip=True)


def _one_row_a_line(text: str) -> list[str] | None:
    """The text's lines if each is one row and no cell can fail to read: no quotes (so no cell
    spans lines), no NUL, no line ended by a lone CR, no line longer than a cell may be."""
    if '"' in text or "\0" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")
    return lines if max(map(len, lines)) <= csv.field_size_limit() else None


class CsvLines(Sequence[dict[str, str]]):
    """The data rows of a CSV file whose lines are its rows (see `_one_row_a_line`), each read
    when it is asked for: the file is split into lines at once, and its rows read a range at a
    time where they are checked (an import's processes read their own batches)."""

    def __init__(self, header: list[str], lines: list[str], delimiter: str) -> None:
        self._header, self._lines, self._delimiter = header, lines, delimiter

    @classmethod
    def of(cls, lines: list[str], delimiter: str) -> tuple[list[str], CsvLines]:
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

    def pick(self, positions: Sequence[int]) -> list[dict[str, str]]:
        """The rows at these positions, in this order."""
        lines = self._lines
        return list(self._rows([lines[i] for i in positions]))

    def cells(self, columns: Sequence[Sequence[str]]) -> list[list[str]]:
        """Each row's cells in these groups of columns, stripped, one a group (the first
        non-empty one, else ""), read without building the rows (a row of the wrong width is
        read as it comes)."""
        header = self._header
        at = [
            [max(i for i, h in enumerate(header) if h == column) for column in group]
            for group in columns
        ]
        single = [group[0] if group else len(header) for group in at]
        reader = csv.reader(self._lines, delimiter=self._delimiter, skipinitialspace=True)
        out: list[list[str]] = []
        try:
            if all(len(group) <= 1 for group in at):
                for cells in reader:
                    width = len(cells)
                    out.append([cells[i].strip() if i < width else "" for i in single])
            else:
                for cells in reader:
                    width = len(cells)
                    out.append(
                        [
                            next((v for i in group if i < width and (v := cells[i].strip())), "")
                            for group in at
                        ]
                    )
        except csv.Error as exc:
            raise SgsFormatError(f"CSV cannot be read: {exc}") from None
        return out

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
                yield [cell_text(value) for value in row]
        except Exception as exc:
            raise SgsFormatError(f"the xlsx sheet cannot be read: {exc}") from None
        finally:
            book.close()

    return _tabular(cells(), pad_short=True, strip=False)  # cell_text strips


def _read_json(text: str) -> tuple[list[str], Iterator[dict[str, str]]]:
    """Read {"rows": [...]} or a bare list of row objects; the header is the union of their keys."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise SgsFormatError(msg) from None
    except RecursionError:
        raise SgsFormatError("JSON nested too deep") from None
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
    return list(header), ({k: cell_text(v) for k, v in row.items()} for row in rows)


def cell_text(value: object) -> str:
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
                    yield Misaligned(header, cells)
                    continue
            yield dict(zip(header, cells, strict=False))  # widths checked above
    except csv.Error as exc:
        raise SgsFormatError(f"CSV cannot be read: {exc}") from None
