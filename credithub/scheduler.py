"""`credithub scheduler`: the periodic jobs, in one process per deployment.

Jobs never run inside web workers. A second scheduler started by mistake waits for the lease
(a row in the database, renewed while this one lives) instead of running every job twice; if
this process dies, its lease runs out and the waiting one takes over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from connectors.errors import ConnectorConfigError
from credithub.audit.anchor import anchor_job
from credithub.db import utcnow
from credithub.jobs.service import acquire, holder_name, release, run_job
from credithub.records.jobs import expire_due
from credithub.standing.jobs import rescore_due
from credithub.sync import reconcile
from credithub.sync import service as sync_service
from credithub.webhooks.delivery import deliver_job

log = logging.getLogger("credithub.scheduler")
LEASE_TERM = timedelta(seconds=30)

Job = Callable[[], dict[str, Any] | None]


def jobs(app: Flask) -> dict[str, tuple[Job, int]]:
    """Every periodic job: id -> (function, interval in seconds)."""
    settings = app.extensions["credithub.settings"]
    found: dict[str, tuple[Job, int]] = {
        "rescore-due": (rescore_due, settings.scheduler.rescore_interval_seconds),
        "expire": (expire_due, settings.scheduler.expiry_interval_seconds),
        "webhooks": (deliver_job, settings.webhooks.interval_seconds),
    }
    if settings.audit.anchor_interval_seconds > 0:
        found["audit-anchor"] = (anchor_job, settings.audit.anchor_interval_seconds)
    for config in settings.connectors:
        name = config["name"]
        found[f"sync:{name}"] = (partial(sync_job, name), int(config.get("interval_seconds", 60)))
        try:
            connector = sync_service.build(config)
        except ConnectorConfigError:
            continue  # its sync job reports the configuration error
        every = connector.reconcile_seconds() if connector.reconciles else None
        connector.close()
        if every:
            found[f"reconcile:{name}"] = (partial(reconcile_job, name), int(every))
    return found


def sync_job(name: str) -> dict[str, Any]:
    """One connector's push and pull; a failing platform is retried after its backoff."""
    results = sync_service.run([name], honour_backoff=True)
    if not results:
        return {}
    r = results[0]
    if not r.ok:
        raise RuntimeError("; ".join(r.errors))
    return {
        "pushed": r.pushed,
        "skipped": r.skipped,
        "dead": r.dead,
        "pulled": r.pulled,
        "applied": r.applied,
    }


def reconcile_job(name: str) -> dict[str, Any]:
    """Reconcile with one partner (credithub.sync.reconcile)."""
    [r] = reconcile.run([name])
    if not r.ok:
        raise RuntimeError("; ".join(r.errors))
    return {
        "cells": r.cells,
        "differing": len(r.differing),
        "fetched": r.fetched,
        "missing_there": len(r.missing_there),
        "resent": r.resent,
    }


def _run(app: Flask, name: str, fn: Job, holder: str) -> None:
    with app.app_context():
        run_job(name, holder, fn)


def _renew(app: Flask, holder: str, scheduler: BlockingScheduler) -> None:
    with app.app_context():
        if not acquire(holder, LEASE_TERM):
            log.error("scheduler lease lost; stopping", extra={"holder": holder})
            scheduler.shutdown(wait=False)


def run(app: Flask, stop: threading.Event | None = None, poll_seconds: float = 5.0) -> None:
    """Wait for the lease, then run the jobs until stopped (SIGTERM, Ctrl-C or `stop`)."""
    stop = stop or threading.Event()
    holder = holder_name()
    with app.app_context():
        while not acquire(holder, LEASE_TERM):
            log.warning("another scheduler holds the lease; waiting", extra={"holder": holder})
            if stop.wait(poll_seconds):
                return
    log.warning("scheduler running", extra={"holder": holder})
    # One worker thread: jobs run one after another, never two at once on the database.
    scheduler = BlockingScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    for name, (fn, seconds) in jobs(app).items():
        scheduler.add_job(
            _run,
            "interval",
            seconds=seconds,
            id=name,
            args=[app, name, fn, holder],
            next_run_time=utcnow(),
        )
    scheduler.add_job(
        _renew,
        "interval",
        seconds=LEASE_TERM.total_seconds() / 3,
        id="lease",
        args=[app, holder, scheduler],
        executor="lease",
    )
    scheduler.add_executor(ThreadPoolExecutor(1), "lease")  # renewal never waits behind a job
    watcher = threading.Thread(
        target=lambda: (stop.wait(), scheduler.shutdown(wait=False)), daemon=True
    )
    watcher.start()
    try:
        scheduler.start()
    finally:
        with app.app_context():
            release(holder)
