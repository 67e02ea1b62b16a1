"""Serve the app with gunicorn (the production WSGI server), safe from slow clients.

Workers are gunicorn's threaded workers (`gthread`): a connection that sends nothing holds a
thread for at most 5 s, then waits in the worker's poller until gunicorn's keep-alive time. A
connection that has sent part of a request and stalls would hold a thread while gunicorn
reads its headers, for as long as the client keeps it open (a "slowloris"): `Worker` gives
each request `server.read_timeout_seconds` to arrive whole, then closes it. What gunicorn
itself refuses (a request line over its limit, bytes that are no HTTP) is answered in the
hub's JSON error shape, like every other error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.http import HTTP_STATUS_CODES

from credithub.errors import error_body

log = logging.getLogger("credithub.server")

# gunicorn's longest request line (its `limit_request_line`): a longer URL is answered 414.
REQUEST_LINE_LIMIT = 4094


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run(app: Flask, host: str, port: int, workers: int) -> None:
    from credithub.db import db
    from credithub.settings import Settings

    settings: Settings = app.extensions["credithub.settings"]
    server = settings.server
    # The app is built once in the master and forked (preload): workers share the same keys
    # and configuration, and a configuration error stops start-up before any worker runs.
    with app.app_context():
        db.dispose()  # no pooled connection may cross the fork
    Worker.read_timeout = float(server.read_timeout_seconds)
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": max(1, workers),
            "worker_class": Worker,
            "threads": server.threads,
            "limit_request_line": REQUEST_LINE_LIMIT,
            "preload_app": True,
            "accesslog": None,  # the app logs every request itself, as JSON
            "timeout": 120,
            "graceful_timeout": 20,
            "post_fork": lambda _arbiter, _worker: _worker_starts(app),
            # A worker that ends in order writes the check-log rows it still buffers.
            "worker_exit": lambda _arbiter, _worker: _close_check_log(app),
            "child_exit": lambda _arbiter, worker: _worker_ended(worker.pid),
        },
    ).run()


MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def count_across_workers(instance_path: Path) -> Path:
    """/metrics adds up what every worker counted: prometheus-client's multiprocess mode, in
    the folder `PROMETHEUS_MULTIPROC_DIR` names (else `metrics/` in the instance folder),
    emptied of a previous run's files. Called before prometheus-client is imported, which
    reads the variable then."""
    folder = Path(os.environ.get(MULTIPROC) or instance_path / "metrics")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROC] = str(folder)
    return folder


def _worker_ended(pid: int) -> None:
    """In the master, as prometheus-client documents for gunicorn: a worker that ended (in
    order or not) leaves its counts, and its live gauges are dropped."""
    if os.environ.get(MULTIPROC):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


class Worker(ThreadWorker):
    """gunicorn's threaded worker; a request that does not arrive whole in time is closed.

    A request is due from the moment its connection has something to read and is queued for
    a thread (`enqueue_req`: a new connection, or a kept-alive one that sends again) until
    gunicorn has parsed its headers and hands it to the app (`handle_request`). A thread of
    the worker closes, twice a second, the connections due for longer than `read_timeout`:
    a thread reading one then sees it end, and one still queued is dropped as soon as a
    thread takes it. So stalled connections hold the threads for `read_timeout` at most from
    when they connected, however many there are.
    """

    read_timeout: float = 10.0

    def init_process(self) -> None:
        self._reading: dict[int, tuple[float, Any]] = {}
        self._reading_lock = threading.Lock()
        threading.Thread(target=self._close_slow_reads, name="slow-reads", daemon=True).start()
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        with self._reading_lock:
            self._reading[id(conn)] = (time.monotonic() + self.read_timeout, conn)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        try:
            return super().handle(conn)
        finally:
            with self._reading_lock:
                self._reading.pop(id(conn), None)

    def handle_request(self, req: Any, conn: Any) -> Any:
        with self._reading_lock:
            self._reading.pop(id(conn), None)  # read whole: the app's time is its own
        return super().handle_request(req, conn)

    def _close_slow_reads(self) -> None:
        while True:
            time.sleep(min(0.5, self.read_timeout / 2))
            now = time.monotonic()
            with self._reading_lock:
                late = [conn for deadline, conn in self._reading.values() if deadline < now]
                for conn in late:
                    self._reading.pop(id(conn), None)
                    with contextlib.suppress(OSError):  # the client may be gone already
                        conn.sock.shutdown(socket.SHUT_RDWR)
            if late:
                log.warning("closed %d connection(s) whose request was not read in time", len(late))

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """What gunicorn refuses before the app sees it, answered in the JSON error shape."""
        status, message = _refusal(exc)
        if status == 500:
            log.error("error outside the app", exc_info=exc)
        else:
            log.warning("refused before the app: %s", message)
        body = json.dumps(error_body(status, message, {}), ensure_ascii=False).encode()
        head = (
            f"HTTP/1.1 {status} {HTTP_STATUS_CODES.get(status, 'Error')}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        with contextlib.suppress(OSError):  # the client may be gone
            client.sendall(head + body)


def _refusal(exc: BaseException) -> tuple[int, str]:
    """The status and message for an error gunicorn raised while reading a request."""
    e = http_errors
    if isinstance(
        exc, e.InvalidResponseHeader | e.InvalidResponseHeaderName | e.ConfigurationProblem
    ):
        return 500, "Internal error outside the app."  # the app's or the setup's fault
    if isinstance(exc, e.LimitRequestLine):
        return 414, f"the request line is longer than {REQUEST_LINE_LIMIT} bytes"
    if isinstance(exc, e.LimitRequestHeaders):
        return 431, "the request's header fields are too large or too many"
    if isinstance(exc, e.UnsupportedTransferCoding):
        return 501, "the request's transfer coding is not supported"
    if isinstance(exc, e.ExpectationFailed):
        return 417, "the request's Expect header cannot be met"
    if isinstance(exc, e.ForbiddenProxyRequest):
        return 403, "proxy requests from this address are refused"
    if isinstance(exc, e.ParseException):
        return 400, "the request is not valid HTTP/1.1 (request line, method, headers or body)"
    return 500, "Internal error outside the app."


def _worker_starts(app: Flask) -> None:
    """SQLite: the worker's commits leave copying the log to a thread of the worker."""
    from credithub.db import db

    with app.app_context():
        db.checkpoints_apart()
        db.checkpoint_behind()


def _close_check_log(app: Flask) -> None:
    buffer = app.extensions.get("credithub.check_log")
    if buffer is not None:
        buffer.close()
