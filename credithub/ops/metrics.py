"""What a process counts for `/metrics`: requests and their latencies, checks by verdict.

Counted in the process with prometheus-client. Under `credithub serve` each gunicorn worker is
a process of its own: prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by
`serve` before this module is imported, see credithub.server) keeps each worker's values in a
file of that folder, and a scrape, whichever worker answers it, adds up all of them. What comes
from the database is read when scraped (credithub.ops.service), not counted here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

disable_created_metrics()  # no `_created` series: multiprocess mode has none either

# Requests and their latencies in one histogram: its `_count` is the number of requests by
# method and status (a request counts two values, not three: a check is the hot path).
REQUESTS = Histogram(
    "credithub_http_request_duration_seconds",
    "HTTP requests answered and their time (until the body is handed to the server), "
    "by method and status",
    ["method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CHECKS = Counter("credithub_checks", "Subjects checked (single and batch), by verdict", ["verdict"])
# Each label value's counter, looked up once in a process (`labels` takes a lock and builds
# tuples each time), when the process first counts one: a gunicorn master, which answers no
# request, keeps no file of counts.
_CHECKED: dict[str, Any] = {}
_ANSWERED: dict[tuple[str, str], Any] = {}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def count_checks(verdicts: Iterable[str]) -> None:
    """Count the verdicts of one check request (one increment per verdict seen)."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict] = counts.get(verdict, 0) + 1
    for verdict, n in counts.items():
        counter = _CHECKED.get(verdict)
        if counter is None:
            counter = _CHECKED[verdict] = CHECKS.labels(verdict)
        counter.inc(n)


def count_request(method: str, status: str, started: float) -> None:
    """Count a request answered with `status` (3 digits), begun at `started` (perf_counter)."""
    elapsed = time.perf_counter() - started
    key = (method if method in _METHODS else "other", status)  # labels stay a known few
    answered = _ANSWERED.get(key)
    if answered is None:
        answered = _ANSWERED[key] = REQUESTS.labels(*key)
    answered.observe(elapsed)


class Measured:
    """WSGI middleware around Flask's path: counts every request it answers and its time. The
    check lane, in front of it, counts the requests it answers itself (`count_request`)."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def starting(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [code[:3]]
            return start_response(code, headers, exc_info)

        try:
            return self.wsgi_app(environ, starting)
        finally:
            count_request(
                environ.get("REQUEST_METHOD", ""), status[0] if status else "500", started
            )


def install(app: Flask) -> None:
    """Count Flask's path (Flask's way to add WSGI middleware); before the lane is put in
    front of it."""
    app.wsgi_app = Measured(app.wsgi_app)  # type: ignore[method-assign]


def in_process() -> bytes:
    """What the processes counted, in Prometheus text format: all workers' in multiprocess
    mode, else this process's own."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    registry = CollectorRegistry()
    if directory:
        MultiProcessCollector(registry, directory)
    else:
        for metric in (REQUESTS, CHECKS):
            registry.register(metric)
    return generate_latest(registry)
