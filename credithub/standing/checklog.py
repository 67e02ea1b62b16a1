"""The check log's buffer: the log rows of single checks, written in bulk.

A write transaction per single check cost more than the rest of the check together (and on
SQLite every one of them queued for the one write lock). With `check.log_flush_ms` above 0 a
worker keeps the log rows of its single checks here and a thread of its own writes them in one
transaction once the oldest has waited that long. A check writes them itself only when that
thread is a whole interval late and is not writing (it died, or its wait went wrong): a write
from a check held up that check and every one queued behind it for the length of the write
(tens of milliseconds for a second's rows on a busy SQLite worker), while the thread's write is
spread among requests. A thread still writing is left to finish: on a busy PostgreSQL worker its
write took 1–2 s (the thread sending the COPY between the requests' turns), and a check that
wrote the rows of that time itself was the slowest hundredth of all checks. The
rows carry the instant each answer was given, so a late write changes nothing in them.

What the buffer costs: a worker killed outright (SIGKILL, a crash, gunicorn's timeout, the
machine losing power) loses the rows of at most the last interval; the answers it gave still
carry their digests. Any orderly end writes them first: the worker's exit (gunicorn's
worker_exit hook, atexit for other servers) and `close()`. A failed write keeps the rows, in
order, and is tried again; past `MAX_ROWS` unwritten rows a check writes them itself and fails
if the database refuses, so a database that refuses writes refuses checks instead of growing
the buffer without bound.

The same writer keeps who watches which subject (`webhooks.watches`, for `check.changed`):
one upsert more per flush, of the distinct (subject, client, domain) the checks named, batch
checks' too (an index, not a record of what was answered: it is not worth a batch's time).
A watch this worker wrote less than `webhooks.watch_refresh_seconds` ago is not written again:
its instant serves a window of `watch_days`, and upserting every watch each second was the
PostgreSQL server's largest burst of work beside a busy worker (0: written every flush).

Batch checks write their rows in their own request's transaction: one transaction for
thousands of rows costs little per row, and a batch's rows are not left to a worker's fate.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from credithub.db import bulk_insert, write_intent
from credithub.standing.models import CheckLog
from credithub.webhooks import watches

log = logging.getLogger("credithub.checks")

MAX_ROWS = 50_000
REMEMBERED = 200_000  # watches remembered as written (past it, forgotten all at once)


class CheckLogBuffer:
    """Log rows waiting to be written; one per app and worker process."""

    def __init__(
        self,
        engine: Engine,
        flush_ms: int,
        clock: Callable[[], float] = time.monotonic,
        watch_refresh_seconds: int = 0,
    ) -> None:
        self.engine = engine
        self.interval = flush_ms / 1000
        self.clock = clock
        self.watch_refresh = timedelta(seconds=watch_refresh_seconds)
        self._start()

    def _start(self) -> None:
        # Also run in a forked worker: the parent's lock, thread and rows are not the child's.
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._rows: list[Mapping[str, Any]] = []
        self._watches: dict[tuple[str, str, str], datetime] = {}
        # The instant each watch was last written at by this worker (`watch_refresh`).
        self._written: dict[tuple[str, str, str], datetime] = {}
        self._due = 0.0  # when the oldest buffered row must be written
        self._closing = threading.Event()
        self.writing = threading.Event()  # set while the writer thread writes
        self._thread: threading.Thread | None = None

    def add(self, rows: Sequence[Mapping[str, Any]], seen: watches.Watches | None = None) -> None:
        """Keep `rows` (and the watches they make, `webhooks.watches`) for the writer thread;
        write them now if it is an interval late."""
        if self._pid != os.getpid():
            self._start()
        closed = self._closing.is_set()
        if self._thread is None and not closed:
            self._thread = threading.Thread(target=self._run, name="check-log", daemon=True)
            self._thread.start()
            atexit.register(self.close)
        if len(self._rows) + len(self._watches) >= MAX_ROWS:
            self.flush()  # the database keeps refusing: let this check fail with it
        with self._lock:
            if not self._rows and not self._watches:
                self._due = self.clock() + self.interval
            self._rows.extend(rows)
            if seen and self.watch_refresh:
                seen = {k: at for k, at in seen.items() if not self._fresh(k, at)}
            if seen:
                watches.merge(self._watches, seen)
            late = self.clock() >= self._due + self.interval and not self.writing.is_set()
        if late or closed:
            try:
                self.flush()
            except Exception:  # kept for the next try; this answer is given all the same
                log.exception("check log rows not written yet; retrying")

    def _fresh(self, key: tuple[str, str, str], at: datetime) -> bool:
        """Whether the watch `key` was written less than `watch_refresh` before `at`."""
        written = self._written.get(key)
        return written is not None and at - written < self.watch_refresh

    def __len__(self) -> int:
        return len(self._rows)

    def flush(self) -> int:
        """Write every buffered row now, in one transaction; the number written."""
        with self._lock:
            rows, self._rows = self._rows, []
            seen, self._watches = self._watches, {}
        if not rows and not seen:
            return 0
        token = write_intent.set(True)  # SQLite: take the write lock at BEGIN
        try:
            with self.engine.begin() as conn:
                if rows:
                    bulk_insert(conn, CheckLog, rows)
                watches.record(conn, seen)
        except BaseException:
            with self._lock:
                self._rows[:0] = rows  # kept, in order, for the next try
                watches.merge(self._watches, seen)
                self._due = self.clock()
            raise
        finally:
            write_intent.reset(token)
        if seen and self.watch_refresh:  # written: remembered only now
            with self._lock:
                if len(self._written) + len(seen) > REMEMBERED:
                    self._written.clear()
                self._written.update(seen)
        return len(rows)

    def _run(self) -> None:
        while True:
            with self._lock:
                waiting = bool(self._rows or self._watches)
                wait = max(0.0, self._due - self.clock()) if waiting else self.interval
            if self._closing.wait(wait):
                return  # close() writes what is left
            with self._lock:
                due = bool(self._rows or self._watches) and self.clock() >= self._due
            if due:
                self.writing.set()
                try:
                    self.flush()
                    failed = False
                except Exception:
                    log.exception("check log rows not written yet; retrying")
                    failed = True
                finally:
                    self.writing.clear()
                if failed:
                    self._closing.wait(self.interval)

    def close(self) -> None:
        """Stop the writer and write what is left (a worker's exit; idempotent)."""
        if self._pid != os.getpid():
            return  # a parent's buffer, inherited by fork: not this process's to write
        self._closing.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=30)
            atexit.unregister(self.close)
        self.flush()
