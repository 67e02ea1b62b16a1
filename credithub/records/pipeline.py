"""One pipeline for checking batches apart from writing them: a push in parts, a pull's pages,
a file import's batches.

Checking and normalising a record (schema, identifiers, the rule pack) costs about as much
CPU as writing it, and a database takes one writer at a time. A run of batches is therefore
checked in a helper process, one batch ahead, while this process writes the batch before it;
results come back in order. This process checks the first batch itself (the helper checks the
second meanwhile), and every batch after a helper died.

Checking is a pure function of its inputs: the job (a part of a push, a page, a range of a
file's rows) and a `Context` (rule pack, USCC allow-list, hub id, today) read from the app
before the run. The helper is forked for the run, so it inherits the checking function and the
context (and a file read before it); it never needs the app, never touches the database, and
only jobs and checked batches travel, pickled. It answers no server signal and ends when this
process ends or closes the run.

`server.prepare_apart_from` (records in the run; 0: never) decides whether a run goes apart;
with it off, with one core or without `fork`, every batch is checked here: same results.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from flask import current_app

from credithub.entities.service import uscc_allow_list
from credithub.records.prepare import today_in_china
from credithub.rules import active_pack
from credithub.rules.pack import RulePack

J = TypeVar("J")
R = TypeVar("R")

# Signals a server installs for its workers; the helper answers none of them itself.
_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGABRT")


@dataclass(frozen=True)
class Context:
    """What checking a batch reads besides its items (it pickles)."""

    pack: RulePack
    allow: frozenset[str]  # USCCs that fail the checksum and are accepted with a warning
    hub_id: str
    today: date  # the day in China the batch is checked on

    @classmethod
    def of_app(cls) -> Context:
        """The running app's: read once, before a run, in the app."""
        hub = str(current_app.extensions["credithub.settings"].hub.id)
        return cls(active_pack(), uscc_allow_list(), hub, today_in_china())


def available() -> bool:
    """Whether a helper can run here: a second core, and `fork` (it inherits its inputs)."""
    forks = "fork" in multiprocessing.get_all_start_methods()
    return forks and (os.cpu_count() or 1) > 1


def goes_apart(records: int) -> bool:
    """Whether a run of `records` records is checked apart (`server.prepare_apart_from`)."""
    threshold = current_app.extensions["credithub.settings"].server.prepare_apart_from
    return bool(threshold) and records >= threshold and available()


def run(
    check: Callable[[J, Context], R], context: Context, jobs: Iterable[J], *, apart: bool
) -> Generator[tuple[J, R], None, None]:
    """Each job with `check(job, context)`, in order. Apart, the next job is taken from
    `jobs` and sent to the helper before a result is handed out (the caller writes it while
    the helper checks the next). An exception raised checking a job is raised here, for it."""
    # What exists now (the app, a file read) is left out of collections for the run: a
    # collection would scan it again and again, and in the helper it would write to every
    # object it scans and so copy its page.
    gc.freeze()
    helper: _Helper[J, R] | None = None
    try:
        if not apart:
            for job in jobs:
                yield job, check(job, context)
            return
        pending = iter(jobs)
        job = next(pending, _END)
        if job is _END:
            return
        helper = _Helper(check, context)
        following = next(pending, _END)
        if following is not _END:
            helper.send(following)
        current: R = check(job, context)  # the first job here, the second in the helper
        while True:
            yield job, current
            if following is _END:
                return
            job, following = following, next(pending, _END)
            if following is not _END:
                helper.send(following)
            current = helper.receive(job)
    finally:
        gc.unfreeze()
        if helper is not None:
            helper.close()


_END: Any = object()


class _Helper(Generic[J, R]):
    """A process forked for one run: it checks the jobs sent to it, in order. If it dies, the
    jobs it still owed (and every later one) are checked here."""

    def __init__(self, check: Callable[[J, Context], R], context: Context) -> None:
        self._check, self._context = check, context
        self._owed: list[J] = []
        forked = multiprocessing.get_context("fork")
        self._conn, theirs = forked.Pipe()
        self._process = forked.Process(
            target=_serve, args=(theirs, self._conn, check, context), daemon=True
        )
        self._process.start()
        theirs.close()
        self._dead = False

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def send(self, job: J) -> None:
        self._owed.append(job)
        if not self._dead:
            try:
                self._conn.send(job)
            except OSError:  # it died
                self._dead = True

    def receive(self, job: J) -> R:
        """The result for `job`, the oldest job sent."""
        self._owed.pop(0)
        if not self._dead:
            try:
                ok, value = self._conn.recv()
            except (EOFError, OSError):
                self._dead = True
            else:
                if not ok:
                    raise value
                result: R = value
                return result
        return self._check(job, self._context)

    def close(self) -> None:
        self._conn.close()  # the helper reads the end of its input and exits
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(
    conn: Connection, parents: Connection, check: Callable[[Any, Context], Any], context: Context
) -> None:
    """The helper: check each job received and send its result back, until the input ends."""
    parents.close()  # so that the end of the parent's end is seen here
    for name in _SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, check(job, context))
        except Exception as exc:
            answer = (False, exc)
        try:
            conn.send(answer)
        except OSError:  # the parent closed the run
            return
        except Exception as exc:
            conn.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({exc})")))
