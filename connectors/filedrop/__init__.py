"""The 前置机 file-drop connector: 双公示 files in a shared folder per department (domain.md §8).

push writes penalty changes as 双公示 CSV files into `outbound`, atomically (hidden temp name,
fsync, rename), at most `batch_size` rows a file. pull reads the files others drop into
`inbound` one file per call, in name order, after the cursor (the last file name read); after
the caller has committed that cursor it calls `acknowledge`, which moves the files into
`inbound/done/`. A file that cannot be read at all goes to `inbound/failed/` with a
`<name>.error.txt` saying why.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Option, PullPage, PushResult
from connectors.errors import ConnectorConfigError, RetriableError
from connectors.filedrop import files
from connectors.filedrop.rows import (
    HEADER,
    Columns,
    RowError,
    encode_rows,
    feed_item,
    header_warnings,
    mask,
    record_row,
    row_messages,
)
from schemas.common import china_today
from schemas.sgs import SgsFormatError, parse_rows
from schemas.sgs_out import (
    WITHOUT_ID_NUMBER,
    missing_for_exchange,
    not_exchangeable,
    without_id_number,
)

__all__ = ["FileDropConnector"]

# codec as Python names it -> (codec of the rows, bytes at the start of the file)
_ENCODINGS: dict[str, tuple[str, bytes]] = {
    "utf-8-sig": ("utf-8", codecs.BOM_UTF8),  # Excel opens it as UTF-8 only with the BOM
    "utf-8": ("utf-8", b""),
    "gb18030": ("gb18030", b""),
}
_CURSOR_TEXT = str.maketrans({c: "-" for c in '_/\\:*?"<>| \t\r\n\x00'})
_EARLIER_FAILED = "not written: an earlier file of this push could not be written"
_LATE = (
    "arrived after files with later names were read, so it was not read; "
    "drop it again under a name that sorts after the others"
)


def _name_part(cursor: str) -> str:
    """A feed cursor made safe for a file name (the cursors stay exact in the CURSOR column)."""
    text = cursor.translate(_CURSOR_TEXT)
    text = "".join(c if c.isascii() and c.isprintable() else "-" for c in text)
    return text[:64] or "-"


class FileDropConnector(Connector):
    """Exchange 双公示 files through a 前置机 shared folder."""

    type_name: ClassVar[str] = "filedrop"
    # Its files are 双公示 rows for a department's or platform's 前置机, not for another hub:
    # the format carries the subject's ID number.
    sends_id_numbers: ClassVar[bool] = True
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("outbound", required=True, help="folder this hub writes its changes to"),
        Option("inbound", required=True, help="folder the department drops its files in"),
        Option(
            "encoding",
            default="utf-8-sig",
            help="encoding of the files written: utf-8-sig, utf-8 or gb18030 (reading detects)",
        ),
        Option("batch_size", int, default=1000, help="at most this many rows per file written"),
        Option("hub_id", default=None, help="origin hub of the records read (filedrop:<name>)"),
    )

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        where = f"connector {self.name!r}"
        try:
            codec = codecs.lookup(self.config["encoding"]).name
        except LookupError:
            codec = ""
        if codec not in _ENCODINGS:
            raise ConnectorConfigError(
                f"{where}: encoding must be one of {', '.join(_ENCODINGS)}, "
                f"got {self.config['encoding']!r}"
            )
        self.row_codec, self.bom = _ENCODINGS[codec]
        if self.config["batch_size"] < 1:
            raise ConnectorConfigError(f"{where}: batch_size must be at least 1")
        for key in ("outbound", "inbound"):
            if not self.config[key]:
                raise ConnectorConfigError(f"{where}: {key} must name a folder")
        self.outbound = Path(self.config["outbound"])
        self.inbound = Path(self.config["inbound"])
        if os.path.abspath(self.outbound) == os.path.abspath(self.inbound):
            raise ConnectorConfigError(
                f"{where}: outbound and inbound must differ, or the hub reads its own files back"
            )
        if self.config["hub_id"] == "":
            raise ConnectorConfigError(f"{where}: hub_id must not be empty")
        self.hub_id: str = self.config["hub_id"] or f"filedrop:{self.name}"
        self._delivered: set[str] = set()  # names pull returned and acknowledge has not moved
        self._last_stamp: datetime | None = None

    # -----------------------------------------------------------------------------------------
    # push

    def push(self, changes: Sequence[dict[str, Any]], more: bool = False) -> list[PushResult]:
        """Write penalty changes as 双公示 files; other kinds are not exchanged by file."""
        results: list[PushResult | None] = [None] * len(changes)
        pending: list[tuple[int, str, dict[str, str]]] = []  # (position, cursor, row)
        today = china_today()
        for i, change in enumerate(changes):
            cursor = str(change.get("cursor") or "")
            record = change.get("record")
            if not isinstance(record, Mapping):
                results[i] = PushResult(cursor, False, "change has no record object")
                continue
            if record.get("kind") != "penalty":
                results[i] = PushResult(cursor, True)  # nothing to send: not a 双公示 record
                continue
            if without_id_number(record):
                results[i] = PushResult(cursor, True, WITHOUT_ID_NUMBER, skipped=True)
                continue
            if missing := missing_for_exchange(record):
                results[i] = PushResult(cursor, True, not_exchangeable(missing), skipped=True)
                continue
            try:
                row = record_row(change, today)
                encode_rows([row], self.row_codec)  # one bad character fails its row, not a file
            except (RowError, UnicodeEncodeError) as exc:
                reason = str(exc) if isinstance(exc, RowError) else f"not {self.row_codec} text"
                results[i] = PushResult(cursor, False, mask(f"not written: {reason}"))
                continue
            pending.append((i, cursor, row))

        size = self.config["batch_size"]
        failure: str | None = None
        for start in range(0, len(pending), size):
            batch = pending[start : start + size]
            error: str | None = None if failure is None else _EARLIER_FAILED
            if failure is None:  # after a failure later files wait: the reader keeps the order
                try:
                    self._write_file(batch)
                except OSError as exc:
                    failure = error = f"outbound {self.outbound}: {exc.strerror or exc}"
            for i, cursor, _ in batch:
                results[i] = PushResult(cursor, error is None, error, retriable=error is not None)
        return [r for r in results if r is not None]

    def _write_file(self, batch: list[tuple[int, str, dict[str, str]]]) -> Path:
        """One file of rows, named by UTC time and its first and last cursor."""
        if not self.outbound.is_dir():  # an unmounted share must not become a local folder
            raise FileNotFoundError(2, "the folder does not exist (share not mounted?)")
        data = self.bom + encode_rows(
            [dict(zip(HEADER, HEADER, strict=True)), *(row for _, _, row in batch)],
            self.row_codec,
        )
        first, last = _name_part(batch[0][1]), _name_part(batch[-1][1])
        while True:
            stamp = self._next_stamp()
            name = f"{stamp:%Y%m%dT%H%M%S%f}_{first}_{last}.csv"
            if not (self.outbound / name).exists():
                return files.atomic_write(self.outbound, name, data)

    def _next_stamp(self) -> datetime:
        """UTC now, strictly after the last one used: file names sort in writing order."""
        now = datetime.now(UTC)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    # -----------------------------------------------------------------------------------------
    # pull

    def pull(self, cursor: str | None) -> PullPage:
        """The rows of the next file after `cursor` (at most one file), as upsert feed items."""
        self.last_pull_errors = []
        self.last_pull_warnings = []
        names = self._waiting()
        queue = [n for n in names if cursor is None or n > cursor]
        if cursor is not None:
            for name in names:
                if name <= cursor and name not in self._delivered:
                    self.last_pull_warnings.append(
                        mask(
                            f"file {name}: not read, its name sorts at or before the cursor "
                            f"{cursor}; if it is new, drop it again under a later name"
                        )
                    )
        for position, name in enumerate(queue):
            path = self.inbound / name
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # taken away since the listing
            except OSError as exc:
                raise RetriableError(
                    mask(f"inbound file {name}: cannot read: {exc.strerror or exc}")
                ) from None
            try:
                changes = self._read(name, data)
            except SgsFormatError as exc:
                self._set_aside(path, str(exc))
                continue
            self._delivered.add(name)
            return PullPage(changes, next_cursor=name, has_more=position + 1 < len(queue))
        return PullPage([], next_cursor=cursor, has_more=False)

    def _read(self, name: str, data: bytes) -> list[dict[str, Any]]:
        """Feed items of one whole file; row errors and warnings noted, SgsFormatError raised."""
        warnings, rows = parse_rows(data, None, china_today())
        notes = header_warnings(name, warnings)
        errors: list[str] = []
        changes: list[dict[str, Any]] = []
        columns = Columns()
        for row in rows:
            columns.learn(row.raw)
            item, row_errors = feed_item(row, columns, self.hub_id)
            if item is None:
                errors.extend(row_messages(name, row, row_errors))
            else:
                changes.append(item)
                notes.extend(mask(f"file {name} index {row.index}: {w}") for w in row.warnings)
        # Only a file read to its end reports: a file failing half-way reports its failure.
        self.last_pull_errors.extend(errors)
        self.last_pull_warnings.extend(notes)
        return changes

    def _set_aside(self, path: Path, reason: str) -> None:
        reason = mask(reason)
        try:
            files.set_aside(path, reason)
        except OSError as exc:
            self.last_pull_errors.append(
                mask(
                    f"file {path.name}: cannot be read ({reason}) and cannot be moved to "
                    f"{files.FAILED}/: {exc.strerror or exc}"
                )
            )
            return
        self.last_pull_errors.append(f"file {path.name}: moved to {files.FAILED}/: {reason}")

    def _waiting(self) -> list[str]:
        try:
            return files.waiting(self.inbound)
        except OSError as exc:
            msg = f"inbound folder {self.inbound}: {exc.strerror or exc}"
            raise RetriableError(msg) from None

    # -----------------------------------------------------------------------------------------
    # acknowledge

    def acknowledge(self, cursor: str | None) -> list[str]:
        """Move every file named at or before the committed cursor into done/; their names."""
        if not cursor:
            return []
        moved: list[str] = []
        problems: list[str] = []
        for name in self._waiting():
            if name > cursor:
                break
            if name not in self._delivered:
                # Dropped after later files were read: never read, so never "done". Set it
                # aside where an operator sees it, instead of losing it silently.
                self._set_aside(self.inbound / name, _LATE)
                continue
            try:
                files.move_into(self.inbound / name, files.DONE)
            except FileNotFoundError:
                continue
            except OSError as exc:
                problems.append(f"{name}: {exc.strerror or exc}")
                continue
            moved.append(name)
            self._delivered.discard(name)
        if problems:
            # Nothing is lost: the files sort before the cursor, so they are never read again,
            # and the next acknowledge moves them.
            raise RetriableError(mask(f"cannot move into {files.DONE}/: " + "; ".join(problems)))
        return moved
