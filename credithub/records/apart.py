"""A helper process that checks incoming records while this process writes.

Checking and normalising a record (schema, identifiers, the rule pack) costs about as much
CPU as writing it, and a database takes one writer at a time. A large push is therefore
checked part by part in a helper process while this process writes the parts before it
(`records.service.ingest`, in parts): one request uses both cores.

Each process that serves requests gets one helper, forked on first use and kept: it inherits
the app (configuration, rule pack) and so needs nothing but the items sent to it. It never
touches the database. It ends when its parent ends, however the parent ends.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from flask import Flask, current_app

T = TypeVar("T")

# The process it serves, the app it inherited, the pool.
_helper: tuple[int, Flask, ProcessPoolExecutor] | None = None
_lock = threading.Lock()
# Signals a server installs for its workers; the helper answers none of them itself.
_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGABRT")


def available() -> bool:
    """Whether this platform can run a helper (it is forked: it inherits the loaded app)."""
    return "fork" in multiprocessing.get_all_start_methods()


def submit(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T] | None:
    """Run `fn(*args, **kwargs)` in this process's helper; None if no helper can take it (the
    caller then runs it itself). Arguments and result travel pickled."""
    pool = _pool()
    if pool is None:
        return None
    try:
        return pool.submit(fn, *args, **kwargs)
    except (BrokenProcessPool, RuntimeError):  # it died, or is shutting down
        discard()
        return None


def outcome(future: Future[T] | None, here: Callable[[], T]) -> T:
    """What the helper made of the work behind `future`, or `here()`: when no helper took
    the work, when it has not begun it (this process, free now, does it at once), or when the
    helper died (it is replaced for the next work)."""
    if future is None or future.cancel():
        return here()
    try:
        return future.result()
    except BrokenProcessPool:
        discard()
        return here()


def discard() -> None:
    """Drop this process's helper (after it died); the next `submit` starts a new one."""
    global _helper
    with _lock:
        held, _helper = _helper, None
    if held is not None and held[0] == os.getpid():
        held[2].shutdown(wait=False, cancel_futures=True)


def _pool() -> ProcessPoolExecutor | None:
    global _helper
    pid = os.getpid()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if _helper is not None and _helper[:2] == (pid, app):
            return _helper[2]
        if not available():
            return None
        # A helper made by the process this one was forked from is not this one's; one that
        # inherited another app (tests build many) is shut down.
        if _helper is not None and _helper[0] == pid:
            _helper[2].shutdown(wait=False, cancel_futures=True)
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start,
            initargs=(app, pid),
        )
        _helper = (pid, app, pool)
        return pool


def _start(app: Flask, parent: int) -> None:
    """In the helper, once: default signal handling, the app's context, and a watch on the
    parent (a parent killed outright never says goodbye)."""
    for name in _SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    app.app_context().push()
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
