"""An import's batches (records.batches): rows naming the same subject or decision together, in
file order; grouped or not, an import stores the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from credithub.clients.service import create_client
from credithub.db import db
from credithub.entities.models import Subject, SubjectName
from credithub.records import batches
from credithub.records.models import Record, RecordChange
from credithub.standing.models import StandingRow
from schemas.sgs import parse_rows
from tests.conftest import empty_database
from tests.records.samples import ZHUJIAN, make_uscc, realistic_sgs_rows, sgs_csv

USCC = make_uscc("91150700", "A0000001")


def test_rows_sharing_a_decision_or_an_identifier_are_one_group_in_file_order() -> None:
    cells = [
        ["1号", USCC, ""],
        ["2号", "", "11010519491231002X"],
        ["3号", USCC.lower(), ""],  # the same code, as sent in lower case
        ["1号", "91150700B00000012X", ""],  # another subject, but decision 1 again: joins row 0
        ["5号", "", " 11010519491231002x "],  # the person of row 1
        ["6号", USCC[8:16] + "-" + USCC[16], ""],  # the organization code in row 0's USCC
        ["7号", "", ""],
    ]
    assert batches.grouped(cells, 10) == [[0, 2, 3, 5, 1, 4, 6]]
    # A batch ends where a group ends; a group larger than a batch is cut in file order.
    assert batches.grouped(cells, 3) == [[0, 2, 3], [5, 1, 4], [6]]
    assert batches.grouped(cells, 2) == [[0, 2], [3, 5], [1, 4], [6]]
    # Transitively: row 2 shares a code with row 0 and a decision with row 1.
    assert batches.grouped([["a", "X1"], ["b", "Y1"], ["b", "X1"]], 5) == [[0, 1, 2]]
    # A document number is compared as sent; an empty cell joins nothing.
    assert batches.grouped([["1号", ""], ["1 号", ""], ["", ""], ["", ""]], 1) == [
        [0],
        [1],
        [2],
        [3],
    ]


def test_a_files_cells_by_code(tmp_path: Path) -> None:
    """A CSV read line by line and the same rows read whole give the same cells; a code two
    columns map to gives the first that is not empty."""
    rows = realistic_sgs_rows(6, 3)
    rows[1]["CF_XDR_SHXYM"] = ""
    for data in (sgs_csv(rows), sgs_csv(rows).replace(b"\r\n", b"\n")):
        _, parsed = parse_rows(data)
        cells = parsed.cells(batches.IDENTIFYING)
        assert [c[0] for c in cells] == [r["CF_WSH"] for r in rows]
        assert [c[1] for c in cells] == [r["CF_XDR_SHXYM"] for r in rows]
        assert [c[-1] for c in cells] == [r["CF_FR_ZJHM"] for r in rows]
    _, whole = parse_rows(json.dumps(rows, ensure_ascii=False).encode(), "application/json")
    assert whole.cells(batches.IDENTIFYING) == cells
    # Row 1's code only in a second column that maps to the same field.
    for r in rows:
        r["统一社会信用代码"] = ""
    rows[1]["统一社会信用代码"] = USCC
    for data in (sgs_csv(rows), json.dumps(rows, ensure_ascii=False).encode()):
        _, parsed = parse_rows(data, "application/json" if data[:1] == b"[" else None)
        cells = parsed.cells(batches.IDENTIFYING)
        assert cells[1][1] == USCC
        assert cells[0][1] == rows[0]["CF_XDR_SHXYM"]


def test_in_file_order() -> None:
    assert batches.in_file_order(5, 2) == [[0, 1], [2, 3], [4]]
    assert batches.in_file_order(0, 2) == []


ImportBothWays = Callable[[list[dict[str, str]], str, int], list[tuple[Any, ...]]]


@pytest.fixture
def import_both_ways(
    app_factory: Callable[..., Flask],
    database_template: str,
    run_cli: Callable[..., Any],
    tmp_path: Path,
) -> ImportBothWays:
    """Import the rows into an empty hub with the `ingest` setting on, then into another with
    it off: what each printed and stored (`_stored`)."""

    def run(rows: list[dict[str, str]], setting: str, batch_size: int) -> list[tuple[Any, ...]]:
        path = tmp_path / "处罚信息.csv"
        path.write_bytes(sgs_csv(rows, "gbk"))
        out = []
        for on in (True, False):
            url = empty_database(database_template, tmp_path / f"{on}.db")
            app = app_factory(database={"url": url}, ingest={setting: on})
            with app.app_context(), db.transaction() as session:
                create_client(session, "zhujian", "department", ZHUJIAN)
            env = {
                "CREDITHUB_DATABASE_URL": url,
                f"CREDITHUB_INGEST_{setting.upper()}": str(on).lower(),
            }
            args = ("--client", "zhujian", "--batch-size", str(batch_size))
            result = run_cli("import", str(path), *args, env=env)
            assert result.exit_code in (0, 1), result.output
            out.append((result.output, *_stored(app)))
        return out

    return run


def test_an_import_grouped_stores_what_an_import_in_file_order_stores(
    import_both_ways: ImportBothWays,
) -> None:
    """The same records, subjects with their current and former names, standings and counts;
    each record's changes in the same order. Only the change log's order across records
    differs."""
    grouped, in_order = import_both_ways(realistic_sgs_rows(), "group_by_subject", 7)
    assert grouped == in_order
    assert "rows 60: created 58, updated 1, unchanged 0, rejected 1" in grouped[0]
    _, records, names, standings, log = grouped
    assert (len(records), len(standings), len(log)) == (58, 12, 58)
    assert any(former for _, _, former in names)  # renamed subjects keep their former names


def _stored(app: Flask) -> tuple[list[Any], ...]:
    """Records, subjects' names and standings by natural key; each record's changes in order."""
    with app.app_context():
        session = db.session
        subject = Subject.uscc, Subject.id_masked
        records = session.execute(
            select(
                Record.ref, *subject, Record.version, Record.status, Record.content,
                Record.raw, Record.ends_on, Record.content_hash.is_not(None),
            ).join(Subject, Subject.id == Record.subject_id)
        ).all()  # fmt: skip
        names = []
        for sid, uscc, masked, name in session.execute(
            select(Subject.id, *subject, Subject.name)
        ).all():
            former = session.scalars(
                select(SubjectName.name).where(
                    SubjectName.subject_id == sid, SubjectName.name != name
                )
            ).all()
            names.append(((uscc, masked), name, sorted(former)))
        standings = [
            ((uscc, masked), _without_ids(data))
            for uscc, masked, data in session.execute(
                select(*subject, StandingRow.data).join(
                    Subject, Subject.id == StandingRow.subject_id
                )
            ).all()
        ]
        log = session.execute(
            select(Record.ref, *subject, RecordChange.version, RecordChange.op)
            .join(Record, Record.id == RecordChange.record_id)
            .join(Subject, Subject.id == Record.subject_id)
            .order_by(RecordChange.position)
        ).all()
    by_record: dict[Any, list[Any]] = {}
    for ref, uscc, masked, version, op in log:
        by_record.setdefault((ref, uscc, masked), []).append((version, op))
    return (
        sorted(map(tuple, records), key=repr),
        sorted(names, key=repr),
        sorted(standings, key=repr),
        sorted(by_record.items(), key=repr),
    )


def _without_ids(value: Any) -> Any:
    """A standing without what differs from run to run: ids, the time it was computed, and so
    the order of entries that tie (they follow the records' ids)."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("at", "record_id")}
    if isinstance(value, list):
        return sorted((_without_ids(v) for v in value), key=repr)
    return value
