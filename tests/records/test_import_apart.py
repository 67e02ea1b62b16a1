"""`credithub import`: batches are checked apart (records.pipeline) and committed in order;
a batch that fails stops the import after the batches before it, and the summary says how far
it got; a helper that dies changes nothing but where the batches are checked."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from credithub.db import db
from credithub.records import intake, pipeline
from credithub.records.models import Record, RecordChange
from tests.conftest import PG_URL
from tests.records.samples import ZHUJIAN, make_uscc, sgs_csv, sgs_row

Headers = dict[str, str]


@pytest.fixture
def department(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="zhujian")


def _file(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(sgs_csv(rows, "gbk"))
    return path


def _import_ten_rows_in_pairs(
    run_cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    after_writing: Callable[[list[int]], None],
) -> Any:
    """Import rows 1-10 in batches of two, `after_writing` called with each batch's row
    positions once it is written (not yet committed)."""
    write = intake.write_rows

    def watched(session: Any, rows: intake.RowBatch, actor: Any) -> Any:
        result = write(session, rows, actor)
        after_writing([index for index, _, _ in rows.rows])
        return result

    monkeypatch.setattr(intake, "write_rows", watched)
    path = _file(tmp_path, [sgs_row(i) for i in range(1, 11)])
    return run_cli("import", str(path), "--client", "zhujian", "--batch-size", "2", env=APART)


APART = {"CREDITHUB_SERVER_PREPARE_APART_FROM": "1"}
HERE = {"CREDITHUB_SERVER_PREPARE_APART_FROM": "0"}


@pytest.mark.parametrize("where", [APART, HERE], ids=["apart", "here"])
def test_batches_are_committed_in_order(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    where: dict[str, str],
) -> None:
    """A decision sent twice in a file ends as its later row says, across batches checked in
    different processes, and the change log lists the rows in file order."""
    again = make_uscc("91150700", "T0000001")
    rows = [sgs_row(i) for i in range(1, 10)]
    rows[1] = sgs_row(2, uscc=again, CF_NR_FK="1")
    rows.append(sgs_row(2, uscc=again, CF_NR_FK="2"))  # row 10, in the last batch: corrects row 2
    result = run_cli(
        "import", str(_file(tmp_path, rows)), "--client", "zhujian", "--batch-size", "2", env=where
    )
    assert result.exit_code == 0, result.output
    assert "rows 10: created 9, updated 1, unchanged 0, rejected 0" in result.output

    with app.app_context():
        corrected = db.session.scalars(select(Record).where(Record.subject.has(uscc=again))).one()
        assert (corrected.version, corrected.content["fine_yuan"]) == (2, "20000.00")
        by_position = db.session.execute(
            select(Record.ref, RecordChange.version)
            .join(Record, Record.id == RecordChange.record_id)
            .order_by(RecordChange.position)
        ).all()
    # The rows are written grouped by subject and decision (records.batches), each group in
    # file order: the eight rows of one company, then decision 2 of another, sent twice.
    numbers = [int(ref.split("〕")[1].rstrip("号")) for ref, _ in by_position]
    assert numbers == [1, *range(3, 10), 2, 2]
    assert [version for _, version in by_position] == [1] * 9 + [2]


def _fail_at_row_7(positions: list[int]) -> None:
    if 6 in positions:  # the fourth batch (rows 7 and 8)
        raise RuntimeError("the disk is full")


def test_a_batch_that_fails_stops_the_import_after_the_batches_before_it(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch whose writing fails is not half-written; the import reports how far it got."""
    result = _import_ten_rows_in_pairs(run_cli, tmp_path, monkeypatch, _fail_at_row_7)
    assert result.exit_code != 0
    assert (
        "RuntimeError: the disk is full; 6 rows were imported; run the import again for the rest"
        in result.output
    )
    with app.app_context():
        refs = db.session.scalars(select(Record.ref)).all()
        changes = db.session.scalar(select(func.count()).select_from(RecordChange))
    assert sorted(int(ref.split("〕")[1].rstrip("号")) for ref in refs) == list(range(1, 7))
    assert changes == 6


@pytest.mark.skipif(not pipeline.available(), reason="the helper needs fork and two cores")
def test_a_killed_helper_changes_nothing_but_where_batches_are_checked(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The helper killed outright while checking rows 5 and 6: this process checks them and
    every batch after them; all ten rows are imported, in order."""
    monkeypatch.setattr(pipeline._Helper, "ready", lambda _self: True)  # wait for the helper
    importer, real = os.getpid(), intake.prepare_rows
    here: list[int] = []

    def dies_at_row_5(rows: Any, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != importer and rows[0].index == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        if os.getpid() == importer:
            here.append(rows[0].index)
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(intake, "prepare_rows", dies_at_row_5)  # the helper is forked: it sees it
    result = _import_ten_rows_in_pairs(run_cli, tmp_path, monkeypatch, lambda _: None)
    assert result.exit_code == 0, result.output
    assert "rows 10: created 10, updated 0, unchanged 0, rejected 0" in result.output
    # The first batch, the one it died on and every one after it (and any checked here while
    # waiting for it).
    assert here[0] == 0
    assert {4, 6, 8} <= set(here)
    with app.app_context():
        numbers = db.session.scalars(
            select(Record.ref).join(RecordChange).order_by(RecordChange.position)
        ).all()
    assert [int(ref.split("〕")[1].rstrip("号")) for ref in numbers] == list(range(1, 11))


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write-ahead log")
@pytest.mark.parametrize("apart", [True, False])
def test_the_import_copies_the_write_ahead_log_apart_from_its_commits(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    apart: bool,
) -> None:
    """As in a served worker, the import's commits do not copy the log into the database file
    (a thread of the process does, `db.checkpoint_behind`); switched off, they do."""
    seen: list[int] = []
    write = intake.write_rows

    def watched(session: Any, rows: intake.RowBatch, actor: Any) -> Any:
        seen.append(session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        return write(session, rows, actor)

    monkeypatch.setattr(intake, "write_rows", watched)
    env = {"CREDITHUB_DATABASE_CHECKPOINTS_APART": str(apart).lower()}
    path = _file(tmp_path, [sgs_row(i) for i in range(1, 5)])
    result = run_cli("import", str(path), "--client", "zhujian", "--batch-size", "2", env=env)
    assert result.exit_code == 0, result.output
    assert seen == ([0, 0] if apart else [1000, 1000])
    assert any(t.name == "checkpoint" for t in threading.enumerate()) or not apart
