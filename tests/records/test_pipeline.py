"""The one pipeline (records.pipeline): checked apart or here, a push, a pull and a file import
answer the same, store the same rows and list the same changes in the same order."""

from __future__ import annotations

import itertools
import os
import pickle
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from credithub.clients.service import create_client
from credithub.db import db
from credithub.entities.models import Subject
from credithub.records import pipeline, service
from credithub.records.models import Record, RecordChange
from credithub.sync import service as sync
from tests.conftest import empty_database, wait_for
from tests.records.samples import ZHUJIAN, sgs_csv, sgs_row
from tests.records.test_push_in_parts import mixed
from tests.sync.test_pull import Feed, feed_item

needs_helper = pytest.mark.skipif(not pipeline.available(), reason="the helper needs fork, 2 cores")

Snapshot = tuple[Any, list[tuple[Any, ...]], list[tuple[Any, ...]]]


@pytest.fixture
def twice(
    app_factory: Callable[..., Flask], database_template: str, tmp_path: Path
) -> Callable[[Callable[[Flask], Any]], tuple[Snapshot, Snapshot]]:
    """Run `act` on an empty hub checking apart, then on another empty hub checking here; what
    each answered, stored and logged."""

    def run(act: Callable[[Flask], Any]) -> tuple[Snapshot, Snapshot]:
        out = []
        for threshold in (1, 0):
            app = app_factory(
                hub={"id": "city"},
                server={"prepare_apart_from": threshold},
                database={"url": empty_database(database_template, tmp_path / f"{threshold}.db")},
            )
            answer = act(app)
            out.append((answer, *_stored(app)))
        return out[0], out[1]

    return run


def _stored(app: Flask) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The stored records (without ids) and the change log in order."""
    with app.app_context():
        session = db.session
        records = session.execute(
            select(
                Record.ref,
                Record.authority_uscc,
                Record.version,
                Record.status,
                Record.content,
                Record.raw,
                Record.ends_on,
                Subject.name,
                Subject.uscc,
            )
            .join(Subject, Subject.id == Record.subject_id)
            .order_by(Record.ref, Record.authority_uscc)
        ).all()
        log = session.execute(
            select(Record.ref, RecordChange.version, RecordChange.op, RecordChange.actor)
            .join(Record, Record.id == RecordChange.record_id)
            .order_by(RecordChange.position)
        ).all()
    return [tuple(r) for r in records], [tuple(r) for r in log]


def _token(app: Flask, kind: str = "department") -> dict[str, str]:
    with app.app_context(), db.transaction() as session:
        _, token = create_client(session, "zhujian", kind, ZHUJIAN)
    return {"Authorization": f"Bearer {token}"}


def _answer(results: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("index", "status", "errors", "warnings", "version")
    return [tuple(str(r.get(k)) for k in keys) for r in results]


def _twice(job: int, _context: pipeline.Context) -> tuple[int, int]:
    if job == 7:
        raise ValueError("seven")
    return job * 2, os.getpid()


@needs_helper
def test_a_run_apart_gives_what_a_run_here_gives(app: Flask) -> None:
    """In order, each job's result; the first is checked here, the second in the helper (the
    others wherever is free first); an exception raised checking a job is raised in its turn,
    after the jobs before it."""
    with app.app_context():
        context = pipeline.Context.of_app()

    def collect(apart: bool) -> tuple[list[tuple[int, int]], list[int]]:
        out, pids = [], []
        checked = pipeline.run(_twice, context, range(10), apart=apart)
        for job, (result, pid) in itertools.islice(checked, 7):
            out.append((job, result))
            pids.append(pid)
        with pytest.raises(ValueError, match="seven"):
            next(checked)
        return out, pids

    (apart, apart_pids), (here, here_pids) = collect(True), collect(False)
    assert apart == here == [(n, 2 * n) for n in range(7)]
    assert here_pids == [os.getpid()] * 7
    assert apart_pids[0] == os.getpid()
    assert apart_pids[1] != os.getpid()
    assert len(set(apart_pids)) == 2


def _large(job: int, _context: pipeline.Context, log: Path) -> bytes:
    with log.open("a") as fh:
        fh.write(f"{job}\n")
    return bytes(2_000_000)  # an answer far larger than a pipe holds


@needs_helper
def test_the_helper_checks_ahead_while_its_last_answer_is_unread(
    app: Flask, tmp_path: Path
) -> None:
    """The helper holds two jobs: it checks the second while its answer for the first, larger
    than a pipe holds, waits to be read (the answers then come in order)."""
    with app.app_context():
        context = pipeline.Context.of_app()
    log = tmp_path / "checked"
    checked = pipeline.run(partial(_large, log=log), context, range(4), apart=True)
    assert next(checked)[0] == 0  # checked here; the helper holds jobs 1 and 2, reads none
    wait_for(lambda: {"1", "2"} <= set(log.read_text().split()), "jobs 1 and 2 checked", 20)
    assert [job for job, _ in checked] == [1, 2, 3]


def _waits_for_go(job: tuple[int, bytes], _context: pipeline.Context, folder: Path) -> int:
    if job[0] == 1:  # the helper's first job: checked only once this process has its first answer
        deadline = time.monotonic() + 20
        while not (folder / "go").exists():
            if time.monotonic() > deadline:
                (folder / "timed out").touch()
                break
            time.sleep(0.02)
    return job[0]


@needs_helper
def test_sending_the_helper_a_job_never_waits_for_the_job_it_is_checking(
    app: Flask, tmp_path: Path
) -> None:
    """Jobs larger than a pipe holds: the helper reads the second while it checks the first,
    so this process goes on to check and hand out its own first job meanwhile."""
    with app.app_context():
        context = pipeline.Context.of_app()
    jobs = [(n, bytes(2_000_000)) for n in range(4)]
    checked = pipeline.run(partial(_waits_for_go, folder=tmp_path), context, jobs, apart=True)
    assert next(checked)[1] == 0
    (tmp_path / "go").touch()
    assert [answer for _, answer in checked] == [1, 2, 3]
    assert not (tmp_path / "timed out").exists()


def test_the_context_pickles(app: Flask) -> None:
    with app.app_context():
        context = pipeline.Context.of_app()
    assert pickle.loads(pickle.dumps(context)) == context  # noqa: S301  (our own bytes)


@needs_helper
def test_a_push_apart_stores_what_a_push_here_stores(
    twice: Callable[..., tuple[Snapshot, Snapshot]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PART", 3)

    def push(app: Flask) -> Any:
        resp = app.test_client().post(
            "/api/v1/records", json={"records": mixed()}, headers=_token(app)
        )
        assert resp.status_code == 200
        return _answer(resp.get_json()["results"])

    apart, here = twice(push)
    assert apart == here
    assert (len(apart[1]), len(apart[2])) == (4, 5)


@needs_helper
def test_a_pull_apart_stores_what_a_pull_here_stores(
    twice: Callable[..., tuple[Snapshot, Snapshot]],
) -> None:
    items = [feed_item(n) for n in range(1, 24)]
    del items[9]["record"]["subject"]  # malformed: a dead letter
    items.append({**feed_item(3), "cursor": "24"})  # sent again: unchanged

    def pull(app: Flask) -> Any:
        with app.app_context():
            result = sync.run_one(Feed(items, page=5))
        assert result.ok, result.errors
        return (result.pulled, result.applied, result.rejected)

    apart, here = twice(pull)
    assert apart == here
    assert apart[0] == (24, 22, 1)


@needs_helper
def test_an_import_apart_stores_what_an_import_here_stores(
    twice: Callable[..., tuple[Snapshot, Snapshot]],
    run_cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    rows = [sgs_row(i) for i in range(1, 10)]
    rows[4] = sgs_row(5, CF_JDRQ="2099-01-01")  # rejected
    rows.append(sgs_row(2, CF_NR_FK="2"))  # corrects row 2, in the last batch
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(sgs_csv(rows, "gbk"))

    def import_(app: Flask) -> Any:
        _token(app)
        settings = app.extensions["credithub.settings"]
        env = {
            "CREDITHUB_SERVER_PREPARE_APART_FROM": str(settings.server.prepare_apart_from),
            "CREDITHUB_DATABASE_URL": settings.database.url,
        }
        result = run_cli("import", str(path), "--client", "zhujian", "--batch-size", "3", env=env)
        return result.output

    apart, here = twice(import_)
    assert apart == here
    assert "rows 10: created 8, updated 1, unchanged 0, rejected 1" in apart[0]


def test_unset_the_helper_is_on_for_sqlite_and_off_for_postgresql(app: Flask) -> None:
    """Where `server.prepare_apart_from` is unset: from 1,000 records on SQLite; never on
    PostgreSQL (its server works on the other core: the helper did not pay)."""
    with app.app_context():
        assert app.extensions["credithub.settings"].server.prepare_apart_from is None
        sqlite = db.engine.dialect.name == "sqlite"
        assert pipeline.goes_apart(999) is False
        assert pipeline.goes_apart(1000) is (sqlite and pipeline.available())
