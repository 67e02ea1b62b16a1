"""Serve the app with gunicorn (the production WSGI server)."""

from __future__ import annotations

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

        db.engine.dispose()  # no pooled connection may cross the fork
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
        },
    ).run()


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
