"""`credithub import`: batches are checked and written by two processes in turn, committed in
file order; a batch that fails, or a process that dies, stops the import after the batches
before it, and the summary says how far it got."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from credithub.db import db
from credithub.records import intake
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

    monkeypatch.setattr(intake, "write_rows", watched)  # the processes are forked: they see it
    path = _file(tmp_path, [sgs_row(i) for i in range(1, 11)])
    return run_cli("import", str(path), "--client", "zhujian", "--batch-size", "2")


@pytest.mark.parametrize("processes", [1, 2])
def test_batches_are_committed_in_file_order(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    processes: int,
) -> None:
    """A decision sent twice in a file ends as its later row says, across batches written by
    different processes, and the change log lists the rows in file order."""
    monkeypatch.setattr(intake, "_IMPORT_PROCESSES", processes)
    again = make_uscc("91150700", "T0000001")
    rows = [sgs_row(i) for i in range(1, 10)]
    rows[1] = sgs_row(2, uscc=again, CF_NR_FK="1")
    rows.append(sgs_row(2, uscc=again, CF_NR_FK="2"))  # row 10, in the last batch: corrects row 2
    result = run_cli(
        "import", str(_file(tmp_path, rows)), "--client", "zhujian", "--batch-size", "2"
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
    numbers = [int(ref.split("〕")[1].rstrip("号")) for ref, _ in by_position]
    assert numbers == [*range(1, 10), 2]
    assert [version for _, version in by_position] == [1] * 9 + [2]


def _fail_at_row_7(positions: list[int]) -> None:
    if 6 in positions:  # the fourth batch (rows 7 and 8)
        raise RuntimeError("the disk is full")


def _die_at_row_5(positions: list[int]) -> None:
    if 4 in positions:  # the third batch (rows 5 and 6), written and not committed
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(
    ("stop", "said", "kept"),
    [
        (_fail_at_row_7, "RuntimeError: the disk is full; the first 6 rows were imported", 6),
        pytest.param(
            _die_at_row_5,
            f"died (exit {-signal.SIGKILL}); the first 4 rows were imported",
            4,
            marks=pytest.mark.skipif(
                os.cpu_count() == 1, reason="one core: the batches are imported in-process"
            ),
        ),
    ],
)
def test_a_batch_that_fails_or_a_killed_process_stops_the_import_after_the_batches_before_it(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stop: Callable[[list[int]], None],
    said: str,
    kept: int,
) -> None:
    """A batch that fails, or a process killed outright while writing: that batch is not
    half-written, the import reports how far it got, and the other process stops."""
    result = _import_ten_rows_in_pairs(run_cli, tmp_path, monkeypatch, stop)
    assert result.exit_code != 0
    assert said in result.output
    with app.app_context():
        refs = db.session.scalars(select(Record.ref)).all()
        changes = db.session.scalar(select(func.count()).select_from(RecordChange))
    assert sorted(int(ref.split("〕")[1].rstrip("号")) for ref in refs) == list(range(1, kept + 1))
    assert changes == kept


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's write-ahead log")
@pytest.mark.skipif(os.cpu_count() == 1, reason="one core: the batches are imported in-process")
def test_the_write_ahead_log_is_copied_apart_and_emptied_past_a_limit(
    app: Flask,
    run_cli: Callable[..., Any],
    department: Headers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    """The importing processes copy the log into the database file after their turn to write,
    not as they commit; a log that keeps growing is emptied once it passes the limit, so it
    stays near the limit however long the file."""
    wal = Path(database_url.removeprefix("sqlite:///") + "-wal")
    seen = tmp_path / "log-sizes"
    write = intake.write_rows

    def watched(session: Any, rows: intake.RowBatch, actor: Any) -> Any:
        result = write(session, rows, actor)
        with seen.open("a") as out:  # the processes are forked: they report through a file
            out.write(f"{wal.stat().st_size}\n")
        return result

    monkeypatch.setattr(intake, "write_rows", watched)
    monkeypatch.setattr(intake, "LOG_LIMIT", 256 << 10)

    def log_sizes(name: str) -> list[int]:
        seen.write_text("")
        rows = [sgs_row(i, uscc=make_uscc("91150700", f"{name}{i:07d}")) for i in range(1, 61)]
        path = tmp_path / f"{name}.csv"
        path.write_bytes(sgs_csv(rows, "gbk"))
        result = run_cli("import", str(path), "--client", "zhujian", "--batch-size", "2")
        assert result.exit_code == 0, result.output
        assert "created 60," in result.output
        return [int(line) for line in seen.read_text().split()]

    bounded = log_sizes("A")
    with monkeypatch.context() as no_copies:  # commits alone never copy the log: it grows
        no_copies.setattr(db, "checkpoint", lambda: None)
        no_copies.setattr(db, "truncate_log", lambda **_: None)
        unbounded = log_sizes("B")
    assert max(bounded) < 1 << 20 < max(unbounded)  # about 0.3 MiB against 3
    # Emptied, not only rewound: the file shrinks again (a rewound one keeps its size).
    assert any(later < earlier for earlier, later in itertools.pairwise(bounded))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)) == 120


@pytest.mark.parametrize(("count", "size"), [(1, 5000), (12_345, 5000), (9, 2), (4_000, 700)])
@pytest.mark.parametrize("ramp", [False, True])
def test_batches_cover_every_row_once_in_order_and_none_is_larger_than_asked(
    count: int, size: int, ramp: bool
) -> None:
    """Where two processes take turns the first batches are smaller (writing can begin
    sooner); every batch holds at most --batch-size rows either way."""
    batches = intake._batches(count, size, ramp)
    assert all(stop == start for (_, stop), (start, _) in itertools.pairwise(batches))
    assert (batches[0][0], batches[-1][1]) == (0, count)
    assert all(0 < stop - start <= size for start, stop in batches)
    if ramp and count > 10_000:
        assert [stop - start for start, stop in batches[:5]] == [500, 1000, 2000, 4000, 4845]
