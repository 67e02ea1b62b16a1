"""双公示 intake: files and rows in the national format become records through `ingest`.

The HTTP endpoint takes one batch (at most 5,000 rows); `credithub import` takes a whole file
and commits it in batches, so a crash loses at most the batch in flight and a rerun of the same
file converges (the rows already in are `unchanged`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Request
from sqlalchemy.orm import Session

from credithub.errors import Invalid
from credithub.records.prepare import Actor, load_checked_record, today_in_china
from credithub.records.service import IngestResult, ItemResult, ingest
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


def ingest_rows(
    session: Session, rows: Sequence[SgsRow], actor: Actor, *, atomic: bool = False
) -> IngestResult:
    """Ingest parsed rows as one batch; results are indexed by data row."""
    items: list[Any] = []
    early: list[ItemResult | None] = []
    raws: list[dict[str, Any] | None] = []
    for position, row in enumerate(rows):
        items.append(row.record)
        raws.append(dict(row.raw))
        early.append(
            None
            if row.record is not None
            else ItemResult(position, "rejected", errors=row.errors, warnings=row.warnings)
        )
    result = ingest(
        session, items, actor, atomic=atomic, raws=raws, early=early, loader=load_checked_record
    )
    for row, item in zip(rows, result.results, strict=True):
        item.index = row.index
        item.errors = _to_codes(item.errors)
        if item.status != "rejected" and row.warnings:
            item.warnings = [*row.warnings, *item.warnings]
    return result


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
    rejected: list[tuple[SgsRow, dict[str, list[str]]]] = field(default_factory=list)

    def add(self, rows: Sequence[SgsRow], result: IngestResult) -> None:
        self.rows += len(rows)
        self.created += result.count("created")
        self.updated += result.count("updated")
        self.unchanged += result.count("unchanged")
        self.rejected.extend(
            (row, item.errors)
            for row, item in zip(rows, result.results, strict=True)
            if item.status == "rejected"
        )


def import_rows(
    rows: Sequence[SgsRow],
    run_batch: Callable[[Sequence[SgsRow]], IngestResult],
    batch_size: int = MAX_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import parsed rows in batches; `run_batch` ingests and commits one batch."""
    summary = ImportSummary()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        summary.add(batch, run_batch(batch))
        if progress:
            progress(len(batch))
    return summary


def rejected_report(summary: ImportSummary) -> str:
    """The rejected rows as CSV (original columns plus the reasons), to fix and send again."""
    header: list[str] = []
    for row, _ in summary.rejected:
        header.extend(k for k in row.raw if k not in header)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["行号 row", "错误 errors", *header])
    for row, errors in summary.rejected:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        writer.writerow([row.index + 1, reasons, *(row.raw.get(k, "") for k in header)])
    return out.getvalue()
