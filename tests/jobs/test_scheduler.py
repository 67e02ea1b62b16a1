"""Periodic jobs: one scheduler runs them, every run is recorded, due standings are rescored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from credithub.db import db, utcnow
from credithub.jobs.models import JobRun
from credithub.jobs.service import acquire, release, run_job
from credithub.standing.jobs import rescore_due
from credithub.standing.models import StandingRow
from tests.conftest import wait_for

TERM = timedelta(seconds=30)


def test_one_holder_at_a_time_and_takeover_after_expiry(app: Flask) -> None:
    with app.app_context():
        assert acquire("a", TERM)
        assert acquire("a", TERM)  # renewal
        assert not acquire("b", TERM)
        release("a")
        assert acquire("b", TERM)
        assert not acquire("a", TERM)
        assert acquire("b", timedelta(seconds=-1))  # b's lease has run out
        assert acquire("a", TERM)


def test_every_run_is_recorded_and_a_failure_does_not_stop_the_next(app: Flask) -> None:
    def boom() -> dict[str, Any]:
        raise RuntimeError("database went away")

    with app.app_context():
        failed = run_job("boom", "tester", boom)
        ok = run_job("count", "tester", lambda: {"n": 3})
        runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert (failed.status, ok.status) == ("failed", "ok")
    assert "database went away" in (runs[0].error or "")
    assert runs[1].counts == {"n": 3}
    assert all(r.started_at <= r.finished_at for r in runs if r.finished_at)


def test_rescore_job_recomputes_only_what_is_due(
    app: Flask, client: Any, make_token: Callable[..., dict[str, str]]
) -> None:
    from tests.records.samples import ZHUJIAN, penalty

    dept = make_token("department", uscc=ZHUJIAN)
    client.post(
        "/api/v1/records",
        json={"records": [penalty("A"), penalty("B", uscc="91512081MA62K0260E")]},
        headers=dept,
    )
    with app.app_context():
        assert rescore_due() == {"subjects": 0}
        with db.transaction() as session:
            session.execute(update(StandingRow).values(valid_until=utcnow() - timedelta(seconds=1)))
        assert rescore_due() == {"subjects": 2}
        assert rescore_due() == {"subjects": 0}  # idempotent
        rows = db.session.scalars(select(StandingRow)).all()
    assert all(r.valid_until is None or r.valid_until > utcnow() for r in rows)


def test_the_scheduler_runs_rescoring_expiry_webhooks_and_each_connector_at_their_intervals(
    app_factory: Callable[..., Flask],
) -> None:
    from credithub.audit.anchor import anchor_job
    from credithub.records.jobs import expire_due
    from credithub.scheduler import jobs
    from credithub.webhooks.delivery import deliver_job

    app = app_factory(
        scheduler={"rescore_interval_seconds": 120, "expiry_interval_seconds": 900},
        webhooks={"interval_seconds": 15},
        connectors=[
            {"name": "province", "type": "hub", "url": "http://127.0.0.1:9", "token": "t",
             "interval_seconds": 30}
        ],
    )  # fmt: skip
    found = jobs(app)
    assert set(found) == {
        "rescore-due", "expire", "webhooks", "sync:province", "reconcile:province",
        "audit-anchor",
    }  # fmt: skip
    assert found["rescore-due"] == (rescore_due, 120)
    assert found["audit-anchor"] == (anchor_job, 3600)  # audit.anchor_interval_seconds
    assert found["expire"] == (expire_due, 900)
    assert found["webhooks"] == (deliver_job, 15)
    assert found["sync:province"][1] == 30
    assert found["reconcile:province"][1] == 24 * 3600  # reconcile_hours: 24 by default


def test_reconciliation_runs_at_each_hub_connectors_own_interval(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    from credithub.scheduler import jobs

    hub = {"type": "hub", "url": "http://127.0.0.1:9", "token": "t"}
    app = app_factory(
        connectors=[
            {"name": "province", **hub, "reconcile_hours": 6},
            {"name": "quiet", **hub, "reconcile_hours": 0},
            {"name": "dept", "type": "filedrop", "outbound": str(tmp_path / "out"),
             "inbound": str(tmp_path / "in")},
        ],
    )  # fmt: skip
    found = jobs(app)
    assert {name for name in found if name.startswith("reconcile:")} == {"reconcile:province"}
    assert found["reconcile:province"][1] == 6 * 3600


class Scheduler:
    """`credithub scheduler` in a process of its own, its log read as it is written."""

    def __init__(self, env: dict[str, str]) -> None:
        binary = Path(sys.executable).parent / "credithub"
        self.proc = subprocess.Popen(
            [str(binary), "scheduler"], env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.lines.append(line)

    def says(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self, signal_: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(signal_)
        code = self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        return code


def job_runs(app: Flask) -> list[JobRun]:
    with app.app_context():
        return list(db.session.scalars(select(JobRun)).all())


def test_a_second_scheduler_waits_instead_of_running_jobs_twice(
    app: Flask, cli_env: dict[str, str]
) -> None:
    env = {**os.environ, **cli_env, "CREDITHUB_SCHEDULER_RESCORE_INTERVAL_SECONDS": "1"}
    first = Scheduler(env)
    try:
        wait_for(lambda: len(job_runs(app)) >= 1, "the first scheduler's first job run")
        second = Scheduler(env)
        try:
            wait_for(lambda: second.says("waiting"), "the second scheduler to wait")
            ran = len(job_runs(app))
            wait_for(lambda: len(job_runs(app)) >= ran + 2, "two more runs while it waits")
            assert len({r.holder for r in job_runs(app)}) == 1  # only one process ran jobs
        finally:
            assert second.stop() == 0, second.lines
    finally:
        assert first.stop() == 0, first.lines
    assert not first.says("waiting")


@pytest.mark.parametrize("signal_", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_stops_cleanly_and_releases_its_lease(
    app: Flask, cli_env: dict[str, str], signal_: signal.Signals
) -> None:
    scheduler = Scheduler({**os.environ, **cli_env})
    wait_for(lambda: len(job_runs(app)) >= 1, "the scheduler's first job run")
    assert scheduler.stop(signal_) == 0, scheduler.lines
    with app.app_context():
        assert acquire("next", TERM)  # released: no need to wait for the term to run out


def test_two_first_acquirers_racing_get_one_lease(app: Flask) -> None:
    import threading

    results: list[bool] = []
    barrier = threading.Barrier(4)

    def contend(name: str) -> None:
        with app.app_context():
            barrier.wait()
            results.append(acquire(name, TERM))

    threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
