"""双公示 intake: files and rows in the national format become records through `ingest`.

The HTTP endpoint takes one batch (at most 5,000 rows); `credithub import` takes a whole file
and commits it in batches, so a crash loses at most the batch in flight and a rerun of the same
file converges (the rows already in are `unchanged`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flask import Request, current_app
from sqlalchemy.orm import Session

from credithub import jsonbody
from credithub.db import db
from credithub.errors import Invalid, ServiceError
from credithub.records import batches, pipeline
from credithub.records.prepare import Actor, load_checked_record, today_in_china
from credithub.records.service import (
    Batch,
    Context,
    IngestResult,
    ItemResult,
    ingest,
    prepare_batch,
    write_batch,
)
from schemas.cells import safe_cell
from schemas.records import MAX_BATCH
from schemas.sgs import Sender, SgsFormatError, SgsRow, SgsRows, parse_rows
from schemas.sgs_table import CODE_OF_PATH

# Errors found after parsing are named by the hub's field; a department thinks in 双公示 codes.
FIELD_TO_CODE = CODE_OF_PATH
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded bytes: a multipart `file` field, or the body itself."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("send the file in the multipart field 'file'", {"file": ["required"]})
        return upload.read(), upload.mimetype
    data = request.get_data(cache=False)
    if not data:
        raise Invalid("the body is empty", {"file": ["empty"]})
    return data, request.mimetype


def sender(actor: Actor) -> Sender | None:
    """The sending department, as the 双公示 parser knows it (a 2016 file's unit codes)."""
    if actor.kind != "department" or not actor.uscc:
        return None
    return Sender(actor.name, actor.uscc)


def parse(
    data: bytes, content_type: str | None, actor: Actor | None = None
) -> tuple[list[str], SgsRows]:
    """A file's rows, parsed as sent by `actor`; Invalid (422) if the file cannot be read."""
    try:
        return parse_rows(data, content_type, today_in_china(), sender(actor) if actor else None)
    except SgsFormatError as exc:
        raise Invalid(f"the file cannot be read: {exc}", {"file": [str(exc)]}) from None


def _to_codes(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {FIELD_TO_CODE.get(k, k): v for k, v in errors.items()}


@dataclass
class RowBatch:
    """Parsed rows prepared as one batch (see records.service.Batch), with what the summary
    and the report need of each row: its position in the file, the parser's warnings, the
    raw row."""

    batch: Batch
    rows: list[tuple[int, list[str], dict[str, Any] | None]]  # the raw row: None if left behind


@dataclass
class _Items:
    """Parsed rows as the items of one batch, with what each row's result needs."""

    items: list[Any]
    raws: list[dict[str, Any] | None]
    early: list[ItemResult | None]  # rows the parser rejected
    rows: list[tuple[int, list[str], dict[str, Any] | None]]  # position in file, warnings, raw

    def args(self) -> dict[str, Any]:
        """How records.service checks these items: the raw rows, the parser's rejections, and
        the loader of rows the parser has checked."""
        return {"raws": self.raws, "early": self.early, "loader": load_checked_record}


def _items(rows: Sequence[SgsRow]) -> _Items:
    out = _Items([], [], [], [])
    for position, row in enumerate(rows):
        raw = dict(row.raw)
        out.items.append(row.record)
        out.raws.append(raw)
        out.rows.append((row.index, row.warnings, raw))
        out.early.append(
            None
            if row.record is not None
            else ItemResult(position, "rejected", errors=row.errors, warnings=row.warnings)
        )
    return out


def prepare_rows(
    rows: Sequence[SgsRow], actor: Actor, context: Context, *, atomic: bool = False
) -> RowBatch:
    """Check and normalise parsed rows as one batch (see records.service.prepare_batch);
    reads no database."""
    parsed = _items(rows)
    batch = prepare_batch(parsed.items, actor, context, atomic=atomic, **parsed.args())
    return RowBatch(batch, parsed.rows)


def write_rows(session: Session, rows: RowBatch, actor: Actor) -> IngestResult:
    """Write prepared rows; results are indexed by data row and name 双公示 fields."""
    return _by_row(rows.rows, write_batch(session, rows.batch, actor))


def _by_row(
    rows: Sequence[tuple[int, list[str], dict[str, Any] | None]], result: IngestResult
) -> IngestResult:
    for (index, warnings, _), item in zip(rows, result.results, strict=True):
        item.index = index
        item.errors = _to_codes(item.errors)
        if item.status != "rejected" and warnings:
            item.warnings = [*warnings, *item.warnings]
    return result


def ingest_rows(
    session: Session, rows: Sequence[SgsRow], actor: Actor, *, atomic: bool = False
) -> IngestResult:
    """Ingest parsed rows as one push (see records.service.ingest, in parts); results are
    indexed by data row."""
    parsed = _items(rows)
    result = ingest(session, parsed.items, actor, atomic=atomic, in_parts=True, **parsed.args())
    return _by_row(parsed.rows, result)


def ingest_sgs(
    session: Session, data: bytes, content_type: str | None, actor: Actor, *, atomic: bool = False
) -> IngestResult:
    """One HTTP upload: at most MAX_BATCH rows, committed together by the request."""
    if content_type == "application/json":
        max_depth = current_app.extensions["credithub.settings"].server.json_max_depth
        try:  # a NUL in a cell rejects its row, as in a CSV file (schemas.sgs)
            payload = jsonbody.read(data, max_depth, refuse_nul=False)
        except jsonbody.BodyRefused as exc:
            raise ServiceError(exc.message, exc.errors) from None
        except ValueError:
            raise Invalid("the body is not valid JSON", {"json": ["Invalid JSON body."]}) from None
        if isinstance(payload, dict) and set(payload) - {"rows"}:
            extra = sorted(set(payload) - {"rows"})
            raise Invalid("unknown fields", {k: ["Unknown field."] for k in extra})
    header_warnings, parsed = parse(data, content_type, actor)
    if len(parsed) > MAX_BATCH:
        raise Invalid(
            f"at most {MAX_BATCH} rows per request; use `credithub import` or split the file",
            {"file": [f"more than {MAX_BATCH} rows"]},
        )
    if not parsed:
        raise Invalid("the file has no data rows", {"file": ["no data rows"]})
    rows = list(parsed)
    result = ingest_rows(session, rows, actor, atomic=atomic)
    result.warnings = header_warnings
    return result


@dataclass
class BatchOutcome:
    """What one committed batch of an import did: its counts and its rejected rows."""

    rows: int
    created: int
    updated: int
    unchanged: int
    # Each rejected row: its position in the file (from 0), the raw row, the reasons.
    rejected: list[tuple[int, dict[str, Any], dict[str, list[str]]]]

    @classmethod
    def of(cls, rows: RowBatch, result: IngestResult, file: SgsRows | None = None) -> BatchOutcome:
        """`file`: where a raw row left behind is taken again from."""
        rejected = []
        for (index, _, raw), item in zip(rows.rows, result.results, strict=True):
            if item.status == "rejected":
                if raw is None and file is not None:
                    raw = dict(file.take(index, index + 1)[0].raw)
                rejected.append((index, raw or {}, item.errors))
        return cls(
            len(rows.rows),
            result.count("created"),
            result.count("updated"),
            result.count("unchanged"),
            rejected,
        )


@dataclass
class ImportSummary:
    """What a whole-file import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, dict[str, Any], dict[str, list[str]]]] = field(default_factory=list)

    def add(self, batch: BatchOutcome) -> None:
        self.rows += batch.rows
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.rejected.extend(batch.rejected)
        self.rejected.sort(key=lambda r: r[0])  # in file order, however the rows were batched


class ImportFailed(RuntimeError):
    """A batch of an import could not be checked or written; the batches before it are
    committed, it and those after it are not."""


def import_rows(rows: SgsRows, actor: Actor, batch_size: int = MAX_BATCH) -> Iterator[BatchOutcome]:
    """Import a file's rows batch by batch, each batch checked and committed on its own, the
    rows that name the same subject or decision together and in file order (`records.batches`:
    a key sent twice ends as its last row says; a crash loses at most the batch not yet
    committed, and a rerun takes in the rest). Yields each batch's outcome once it is committed.

    A file of `server.prepare_apart_from` rows or more is checked apart (`records.pipeline`):
    the helper, forked once the file is read, inherits the rows and is sent only each batch's
    positions; it checks the next batch while this process writes one."""
    context = Context.of_app()
    count = len(rows)
    if current_app.extensions["credithub.settings"].ingest.group_by_subject:
        jobs = batches.grouped(rows.cells(batches.IDENTIFYING), batch_size)
    else:
        jobs = batches.in_file_order(count, batch_size)
    db.session.close()  # nothing read so far may hold a lock while the batches commit
    check = partial(_checked, rows=rows, actor=actor)
    checked = pipeline.run(check, context, jobs, apart=pipeline.goes_apart(count))
    try:
        while True:
            try:
                batch = next(checked, None)
            except Exception as exc:
                raise _failure(exc) from exc
            if batch is None:
                return
            try:
                outcome = _committed(batch[1], actor, rows)
            except Exception as exc:
                raise _failure(exc) from exc
            yield outcome
    finally:
        checked.close()


def _checked(positions: list[int], context: Context, rows: SgsRows, actor: Actor) -> RowBatch:
    """The rows at these positions, checked as a batch (reads no database). The raw rows are
    left behind (the writer has the file, and needs only the rejected ones'): less to send
    back."""
    checked = prepare_rows(rows.pick(positions), actor, context)
    checked.rows = [(index, warnings, None) for index, warnings, _ in checked.rows]
    return checked


def _committed(batch: RowBatch, actor: Actor, rows: SgsRows) -> BatchOutcome:
    """A checked batch written and committed in its own transaction."""
    with db.transaction() as session:
        return BatchOutcome.of(batch, write_rows(session, batch, actor), rows)


def _failure(exc: Exception) -> ImportFailed:
    return ImportFailed(f"{type(exc).__name__}: {exc}")


def rejected_report(summary: ImportSummary) -> str:
    """The rejected rows as CSV (original columns plus the reasons), to fix and send again;
    each row named by its index among the data rows, from 0, as the API's results[].index.
    A cell a spreadsheet would run as a formula is written as text (`schemas.cells`)."""
    header: list[str] = []
    for _, raw, _ in summary.rejected:
        header.extend(k for k in raw if k not in header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号 index", "错误 errors", *map(safe_cell, header)])
    for index, raw, errors in summary.rejected:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        writer.writerow([index, safe_cell(reasons), *(safe_cell(raw.get(k, "")) for k in header)])
    return out.getvalue()
