"""One pipeline for checking batches apart from writing them: a push in parts, a pull's pages,
a file import's batches.

Checking and normalising a record (schema, identifiers, the rule pack) costs about as much
CPU as writing it, and a database takes one writer at a time. A run of batches is therefore
checked in a helper process, ahead, while this process writes the batch before it; results
come back in order. The helper holds AHEAD batches at a time, and reads its jobs and sends
its answers from threads of its own: a job and a checked batch are far larger than a pipe
holds, and sending one waits for the reader, so neither process waits for the other to finish
a batch before it can hand over the next.
This process checks the first batch itself (the helper checks the next ones meanwhile), the
next one whenever it would otherwise wait for the helper, and every batch after a helper died.

Checking is a pure function of its inputs: the job (a part of a push, a page, a range of a
file's rows) and a `Context` (rule pack, USCC allow-list, hub id, today) read from the app
before the run. The helper is forked for the run, so it inherits the checking function and the
context (and a file read before it); it never needs the app, never touches the database, and
only jobs and checked batches travel, pickled. It answers no server signal and ends when this
process ends or closes the run.

`server.prepare_apart_from` (records in the run; 0: never; unset: 1000 on SQLite, never on
PostgreSQL) decides whether a run goes apart; with it off, with one core or without `fork`,
every batch is checked here: same results.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from flask import current_app

from credithub.db import db
from credithub.entities.service import uscc_allow_list
from credithub.records.prepare import today_in_china
from credithub.rules import active_pack
from credithub.rules.pack import RulePack
from credithub.trust.forms import Keyring
from credithub.trust.keys import pinned

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
    keys: Keyring = field(default_factory=dict)  # the keys pinned for other hubs

    @classmethod
    def of_app(cls) -> Context:
        """The running app's: read once, before a run, in the app."""
        hub = str(current_app.extensions["credithub.settings"].hub.id)
        keys = pinned(db.session)
        return cls(active_pack(), uscc_allow_list(), hub, today_in_china(), keys)


def available() -> bool:
    """Whether a helper can run here: a second core, and `fork` (it inherits its inputs)."""
    forks = "fork" in multiprocessing.get_all_start_methods()
    return forks and (os.cpu_count() or 1) > 1


# Records from which a run goes apart where `server.prepare_apart_from` is unset. On
# PostgreSQL the helper did not pay: the database server works on the other core.
DEFAULT_APART_FROM = {"sqlite": 1000, "postgresql": 0}


def goes_apart(records: int) -> bool:
    """Whether a run of `records` records is checked apart (`server.prepare_apart_from`)."""
    settings = current_app.extensions["credithub.settings"]
    threshold = settings.server.prepare_apart_from
    if threshold is None:
        threshold = DEFAULT_APART_FROM.get(settings.database_url.split(":", 1)[0].split("+")[0], 0)
    return bool(threshold) and records >= threshold and available()


def run(
    check: Callable[[J, Context], R], context: Context, jobs: Iterable[J], *, apart: bool
) -> Generator[tuple[J, R], None, None]:
    """Each job with `check(job, context)`, in order. Apart, the helper always has a job
    (taken from `jobs` before a result is handed out: the caller writes while the helper
    checks); this process checks the first, and any next one while it would otherwise wait for
    the helper. An exception raised checking a job is raised here, in that job's turn."""
    # What exists now (the app, a file read) is left out of collections for the run: a
    # collection would scan it again and again, and in the helper it would write to every
    # object it scans and so copy its page. A batch makes few reference cycles (about 1,200
    # objects of a 1,000-record page, measured): the collector runs between batches, not while
    # one is checked or written, over the young generations (what the last batches made) after
    # every YOUNG_EVERY-th, so what a batch left in a cycle is freed within that many; a full
    # collection, which also scans everything the run has kept (statement caches, connections:
    # 25-50 ms a time, measured), runs after every FULL_EVERY-th.
    collecting = gc.isenabled()
    gc.freeze()
    gc.disable()
    helper: _Helper[J, R] | None = None
    done = 0
    try:
        if not apart:
            for done, job in enumerate(jobs, 1):
                yield job, check(job, context)
                _collect(done)
            return
        pending = iter(jobs)
        first = next(pending, _END)
        ahead = list(itertools.islice(pending, AHEAD))
        if not ahead:  # one job or none: no helper
            if first is not _END:
                yield first, check(first, context)
            return
        helper = _Helper(check, context)
        for job in ahead:
            helper.send(job)
        # The jobs taken, in order, each with its answer or _OWED (the helper's, in the order
        # sent: at most AHEAD).
        taken: deque[tuple[J, Any]] = deque([(first, _attempt(check, first, context))])
        taken.extend((job, _OWED) for job in ahead)
        while taken:
            job, answer = taken[0]
            if answer is _OWED:
                if not helper.ready():  # rather than wait, check the next job here
                    following = next(pending, _END)
                    if following is not _END:
                        taken.append((following, _attempt(check, following, context)))
                        continue
                answer = helper.receive()
                following = next(pending, _END)
                if following is not _END:
                    helper.send(following)
                    taken.append((following, _OWED))
            taken.popleft()
            ok, value = answer
            if not ok:
                raise value
            yield job, value
            done += 1
            _collect(done)
    finally:
        if collecting:
            gc.enable()
        gc.unfreeze()
        if helper is not None:
            helper.close()


AHEAD = 2  # jobs the helper holds: it checks one while the other (or its answer) travels
# Batches between collections of the young generations (0 and 1), and between full ones. A
# collection scans what is alive, not only the garbage: the pages in flight, the answers not yet
# sent. After every page of a pull it cost the writer 5-15 ms, and the helper (a full one each
# time) 25-80 ms: together 4-5 s of CPU in a 100,000-record pull; every 8th, 0.7 s (measured).
YOUNG_EVERY = 8
FULL_EVERY = 64


def _collect(done: int) -> None:
    """The collection after the `done`th batch of a run, if one is due."""
    if done % FULL_EVERY == 0:
        gc.collect(2)
    elif done % YOUNG_EVERY == 0:
        gc.collect(1)


def _attempt(check: Callable[[J, Context], R], job: J, context: Context) -> tuple[bool, Any]:
    try:
        return True, check(job, context)
    except Exception as exc:  # raised for this job, in its turn
        return False, exc


_END: Any = object()
_OWED: Any = object()


class _Helper(Generic[J, R]):
    """A process forked for one run: it checks the jobs sent to it, one at a time, in order.
    If it dies, the jobs it owed (and every later one) are checked here."""

    def __init__(self, check: Callable[[J, Context], R], context: Context) -> None:
        self._check, self._context = check, context
        self._owed: deque[J] = deque()  # sent, not yet answered: in the order sent
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

    def ready(self) -> bool:
        """Whether `receive` would not wait."""
        return self._dead or self._conn.poll()

    def receive(self) -> tuple[bool, Any]:
        """The answer for the earliest job it owes: (True, result) or (False, the exception)."""
        job = self._owed.popleft()
        if not self._dead:
            try:
                answer: tuple[bool, Any] = self._conn.recv()
            except (EOFError, OSError):
                self._dead = True
            else:
                return answer
        return _attempt(self._check, job, self._context)

    def close(self) -> None:
        self._conn.close()  # the helper reads the end of its input and exits
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(
    conn: Connection, parents: Connection, check: Callable[[Any, Context], Any], context: Context
) -> None:
    """The helper: check each job its receiving thread has read, in order, and hand the answer
    to its sending thread, until the input ends. Jobs and answers are both larger than a pipe
    holds: neither end waits for the other to finish a batch before it can send."""
    parents.close()  # so that the end of the parent's end is seen here
    for name in _SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    # A batch makes few reference cycles: what they leave is collected between jobs, at the
    # writer's cadence (`_collect`).
    gc.disable()
    jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
    answers: queue.SimpleQueue[tuple[bool, Any] | None] = queue.SimpleQueue()
    threading.Thread(target=_receive_jobs, args=(conn, jobs), daemon=True).start()
    sender = threading.Thread(target=_send_answers, args=(conn, answers), daemon=True)
    sender.start()
    try:
        for done, job in enumerate(iter(jobs.get, _END), 1):
            answers.put(_attempt(check, job, context))
            del job
            _collect(done)
    finally:
        answers.put(None)
        sender.join()


def _receive_jobs(conn: Connection, jobs: queue.SimpleQueue[Any]) -> None:
    """The helper's receiving thread: each job as it arrives, then _END (the input ended)."""
    while True:
        try:
            jobs.put(conn.recv())
        except (EOFError, OSError):
            jobs.put(_END)
            return


def _send_answers(conn: Connection, answers: queue.SimpleQueue[tuple[bool, Any] | None]) -> None:
    """The helper's sending thread: each answer, in order, until None (or the parent left)."""
    while (answer := answers.get()) is not None:
        try:
            conn.send(answer)
        except OSError:  # the parent closed the run
            return
        except Exception as exc:  # an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({exc})")))
