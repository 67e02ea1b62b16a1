"""The lease that makes one scheduler run jobs, and `run_job`, which records every run."""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from credithub.db import db, utcnow
from credithub.jobs.models import JobRun, Lease

log = logging.getLogger("credithub.jobs")
LEASE = "scheduler"


def holder_name() -> str:
    """Identifies this process in the lease and in job runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def acquire(holder: str, term: timedelta, name: str = LEASE) -> bool:
    """Take or renew the lease; False while another holder's lease runs."""
    now = utcnow()
    with db.transaction() as session:
        taken = (
            session.connection()
            .execute(
                update(Lease)
                .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at <= now))
                .values(holder=holder, expires_at=now + term)
            )
            .rowcount
        )
        if taken:
            return True
        if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
            return False
        try:
            # A savepoint: losing the race to create the row must not abort the transaction.
            with session.begin_nested():
                session.execute(
                    insert(Lease).values(name=name, holder=holder, expires_at=now + term)
                )
        except IntegrityError:  # another scheduler created it at the same moment
            return False
    return True


def release(holder: str, name: str = LEASE) -> None:
    with db.transaction() as session:
        session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=utcnow())
        )


def run_job(name: str, holder: str, fn: Callable[[], dict[str, Any] | None]) -> JobRun:
    """Run a job and record the run (start, end, counts, error).

    A job commits its own units of work (`db.transaction()` per batch): a long rescore must
    not hold one transaction, and the database's write lock, for minutes.
    """
    with db.transaction() as session:
        run = JobRun(job=name, holder=holder, started_at=utcnow(), status="running")
        session.add(run)
    try:
        counts = fn() or {}
        status, error = "ok", None
    except Exception as exc:  # a failing job is recorded and logged; the scheduler goes on
        log.error("job failed", extra={"job": name}, exc_info=exc)
        counts, status, error = {}, "failed", "".join(traceback.format_exception_only(exc)).strip()
    with db.transaction() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run.id)
            .values(finished_at=utcnow(), status=status, counts=counts, error=error)
        )
    run.status, run.counts, run.error = status, counts, error
    return run
