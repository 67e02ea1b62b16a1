"""双公示 intake: files and rows in the national format become records through `ingest`.

The HTTP endpoint takes one batch (at most 5,000 rows); `credithub import` takes a whole file
and commits it in batches, so a crash loses at most the batch in flight and a rerun of the same
file converges (the rows already in are `unchanged`).
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from flask import Flask, Request
from sqlalchemy.orm import Session

from credithub.errors import Invalid
from credithub.records.prepare import Actor, load_checked_record, today_in_china
from credithub.records.service import (
    Batch,
    IngestResult,
    ItemResult,
    ingest,
    prepare_batch,
    write_batch,
)
from schemas.records import MAX_BATCH
from schemas.sgs import SgsFormatError, SgsRow, parse_rows

# Errors found after parsing are named by the hub's field; a department thinks in 双公示 codes.
FIELD_TO_CODE = {
    "ref": "CF_WSH",
    "decided_on": "CF_JDRQ",
    "categories": "CF_CFLB",
    "fine_yuan": "CF_NR_FK",
    "confiscated_yuan": "CF_NR_WFFF",
    "valid_until": "CF_YXQ",
    "publish_until": "CF_GSJZQ",
    "subject.name": "CF_XDR_MC",
    "subject.type": "CF_XDR_LB",
    "subject.uscc": "CF_XDR_SHXYM",
    "subject.id_number": "CF_XDR_ZJHM",
    "subject.id_type": "CF_XDR_ZJLX",
    "subject.legal_rep.id_number": "CF_FR_ZJHM",
    "subject.legal_rep.id_type": "CF_FR_ZJLX",
    "subject.legacy_codes.business_reg": "CF_XDR_GSZC",
    "subject.legacy_codes.org_code": "CF_XDR_ZZJG",
    "subject.legacy_codes.tax_reg": "CF_XDR_SWDJ",
    "subject.legacy_codes.institution_cert": "CF_XDR_SYDW",
    "subject.legacy_codes.social_org_cert": "CF_XDR_SHZZ",
    "authority.uscc": "CF_CFJGDM",
    "authority.name": "CF_CFJG",
    "source.uscc": "CF_SJLYDM",
    "violation": "CF_WFXW",
}
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


def parse(data: bytes, content_type: str | None) -> tuple[list[str], Iterable[SgsRow]]:
    try:
        return parse_rows(data, content_type, today_in_china())
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
    rows: list[tuple[int, list[str], dict[str, Any]]]


@dataclass
class _Items:
    """Parsed rows as the items of one batch, with what each row's result needs."""

    items: list[Any]
    raws: list[dict[str, Any] | None]
    early: list[ItemResult | None]  # rows the parser rejected
    rows: list[tuple[int, list[str], dict[str, Any]]]  # position in the file, warnings, raw

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
    rows: Sequence[SgsRow], actor: Actor, *, atomic: bool = False, forecast: bool = False
) -> RowBatch:
    """Check and normalise parsed rows as one batch (see records.service.prepare_batch);
    reads no database."""
    parsed = _items(rows)
    batch = prepare_batch(parsed.items, actor, atomic=atomic, forecast=forecast, **parsed.args())
    return RowBatch(batch, parsed.rows)


def write_rows(session: Session, rows: RowBatch, actor: Actor) -> IngestResult:
    """Write prepared rows; results are indexed by data row and name 双公示 fields."""
    return _by_row(rows.rows, write_batch(session, rows.batch, actor))


def _by_row(
    rows: Sequence[tuple[int, list[str], dict[str, Any]]], result: IngestResult
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
        try:
            payload = json.loads(data)
        except ValueError:
            raise Invalid("the body is not valid JSON", {"json": ["Invalid JSON body."]}) from None
        if isinstance(payload, dict) and set(payload) - {"rows"}:
            extra = sorted(set(payload) - {"rows"})
            raise Invalid("unknown fields", {k: ["Unknown field."] for k in extra})
    header_warnings, rows_iter = parse(data, content_type)
    rows: list[SgsRow] = []
    for row in rows_iter:
        rows.append(row)
        if len(rows) > MAX_BATCH:
            raise Invalid(
                f"at most {MAX_BATCH} rows per request; use `credithub import` or split the file",
                {"file": [f"more than {MAX_BATCH} rows"]},
            )
    if not rows:
        raise Invalid("the file has no data rows", {"file": ["no data rows"]})
    result = ingest_rows(session, rows, actor, atomic=atomic)
    result.warnings = header_warnings
    return result


@dataclass
class ImportSummary:
    """What a whole-file import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Each rejected row: its position in the file (from 0), the raw row, the reasons.
    rejected: list[tuple[int, dict[str, Any], dict[str, list[str]]]] = field(default_factory=list)

    def add(self, rows: RowBatch, result: IngestResult) -> None:
        self.rows += len(rows.rows)
        self.created += result.count("created")
        self.updated += result.count("updated")
        self.unchanged += result.count("unchanged")
        self.rejected.extend(
            (index, raw, item.errors)
            for (index, _, raw), item in zip(rows.rows, result.results, strict=True)
            if item.status == "rejected"
        )


class PreparingFailed(RuntimeError):
    """The process preparing an import's batches failed or died."""


def prepared_batches(
    rows: Iterable[SgsRow], actor: Actor, batch_size: int = MAX_BATCH, forecast: bool = False
) -> Iterator[RowBatch]:
    """The rows' prepared batches, in file order, prepared in this process as they are read."""
    batch: list[SgsRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            yield prepare_rows(batch, actor, forecast=forecast)
            batch = []
    if batch:
        yield prepare_rows(batch, actor, forecast=forecast)


def prepared_batches_apart(
    app: Flask, rows: Iterable[SgsRow], actor: Actor, batch_size: int = MAX_BATCH
) -> Iterator[RowBatch]:
    """As `prepared_batches`, but read and prepared in a worker process while the caller
    writes: a whole-file import keeps both cores busy (reading and checking a row cost about
    half of writing it). At most two batches wait, so memory stays bounded. Needs `fork` (the
    worker inherits the app and the file already read); elsewhere, prepares in this process.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from prepared_batches(rows, actor, batch_size)
        return
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue(maxsize=2)
    worker = context.Process(
        target=_prepare_apart, args=(app, rows, actor, batch_size, queue), daemon=True
    )
    worker.start()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if not worker.is_alive():
                    code = worker.exitcode
                    raise PreparingFailed(f"the preparing process died (exit {code})") from None
                continue
            if item is None:
                return
            if isinstance(item, PreparingFailed):
                raise item
            yield item
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _prepare_apart(
    app: Flask, rows: Iterable[SgsRow], actor: Actor, batch_size: int, queue: Any
) -> None:
    """The worker: send each prepared batch, then None (or what went wrong)."""
    try:
        with app.app_context():
            # Standings forecast here are work the writer is spared (see prepare_batch).
            for batch in prepared_batches(rows, actor, batch_size, forecast=True):
                queue.put(batch)
            queue.put(None)
    except Exception as exc:  # the writer reports it; this process has no one else to tell
        queue.put(PreparingFailed(f"{type(exc).__name__}: {exc}"))
    queue.close()
    queue.join_thread()


def rejected_report(summary: ImportSummary) -> str:
    """The rejected rows as CSV (original columns plus the reasons), to fix and send again."""
    header: list[str] = []
    for _, raw, _ in summary.rejected:
        header.extend(k for k in raw if k not in header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号 row", "错误 errors", *header])
    for index, raw, errors in summary.rejected:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        writer.writerow([index + 1, reasons, *(raw.get(k, "") for k in header)])
    return out.getvalue()
