"""Structured logs: one JSON object per line, with the request id, never a personal ID number."""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import time
from typing import Any

from flask import Flask, Response, g, request

# 17 digits and a digit or X: the shape of a 居民身份证号. Masked wherever it shows up in a log.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    """Mask anything shaped like a personal ID number."""
    return _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)[-4:]}", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger("credithub")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


access_log = logging.getLogger("credithub.access")


def request_id(environ: dict[str, Any]) -> str:
    """The request's id: the caller's X-Request-ID when it is a safe one, else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return str(incoming)
    # 32 random hex digits like a uuid4's, without a UUID object and a system call per
    # request. A correlation id, not a secret (random reseeds in every forked worker).
    return f"{random.getrandbits(128):032x}"


def log_request(method: str, path: str, status: int) -> None:
    """The access log line of the request in hand (`g.request_id`, `g.started`, `g.client`)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = g.get("client")
    access_log.info(
        "request",
        extra={
            "request_id": g.get("request_id", "-"),
            "method": method,
            "path": path,
            "status": status,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            "client": client.name if client is not None else None,
        },
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id(request.environ)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        log_request(request.method, request.path, response.status_code)
        return response
