"""Serve the app with gunicorn (the production WSGI server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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
    # The app is built once in the master and forked (preload): workers share the same keys
    # and configuration, and a configuration error stops start-up before any worker runs.
    with app.app_context():
        from credithub.db import db

        db.dispose()  # no pooled connection may cross the fork
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": max(1, workers),
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
