"""Connector base: declared config, masked secrets, and HTTP retry rules on a real server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from connectors import create
from connectors.base import MASK, Connector, Option, PullPage, PushResult
from connectors.errors import ConnectorConfigError, FatalError, RetriableError
from connectors.http import HttpClient, retry_after_seconds


class Dummy(Connector):
    type_name = "dummy"
    OPTIONS = (Option("url", required=True), Option("token", secret=True, required=True))

    def push(self, changes: Sequence[dict[str, Any]]) -> list[PushResult]:
        return [PushResult(change_id=str(c["cursor"]), ok=True) for c in changes]

    def pull(self, cursor: str | None) -> PullPage:
        return PullPage()


def test_config_is_validated_and_secrets_masked() -> None:
    c = Dummy({"name": "p", "type": "dummy", "url": "http://x", "token": "s3cret"})
    assert c.config["interval_seconds"] == 60
    assert c.public_config()["token"] == MASK
    assert "s3cret" not in repr(c.public_config())
    with pytest.raises(ConnectorConfigError, match="unknown key"):
        Dummy({"name": "p", "type": "dummy", "url": "u", "token": "t", "tokn": "t"})
    with pytest.raises(ConnectorConfigError, match="missing required key 'url'"):
        Dummy({"name": "p", "type": "dummy", "token": "t"})
    with pytest.raises(ConnectorConfigError, match="interval_seconds must be int"):
        Dummy({"name": "p", "type": "dummy", "url": "u", "token": "t", "interval_seconds": True})


def test_unknown_type_is_named() -> None:
    with pytest.raises(ConnectorConfigError, match="unknown connector type 'nope'"):
        create({"name": "x", "type": "nope"})


class Script(BaseHTTPRequestHandler):
    """Answers each request with the next scripted (status, headers, delay) step."""

    steps: ClassVar[list[tuple[int, dict[str, str], float]]] = []
    seen: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        Script.seen.append(time.monotonic())
        status, headers, delay = Script.steps.pop(0) if Script.steps else (200, {}, 0.0)
        time.sleep(delay)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Script.steps, Script.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Script)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_retries_429_and_5xx_then_succeeds(server: str) -> None:
    Script.steps = [(429, {"Retry-After": "0.3"}, 0), (503, {}, 0), (200, {}, 0)]
    slept: list[float] = []
    client = HttpClient(server, backoff=0.01, sleep=lambda s: (slept.append(s), time.sleep(s))[0])
    assert client.request("GET", "/x").status_code == 200
    assert len(Script.seen) == 3
    assert slept[0] >= 0.3  # Retry-After honoured


def test_other_4xx_is_fatal_without_retry(server: str) -> None:
    Script.steps = [(403, {}, 0)]
    with pytest.raises(FatalError, match="403"):
        HttpClient(server, backoff=0.01).request("GET", "/x")
    assert len(Script.seen) == 1


def test_timeouts_and_persistent_5xx_become_retriable(server: str) -> None:
    Script.steps = [(200, {}, 0.5)] * 2
    with pytest.raises(RetriableError, match="Timeout"):
        HttpClient(server, timeout=0.1, attempts=2, backoff=0.01).request("GET", "/x")
    Script.steps = [(500, {}, 0)] * 3
    with pytest.raises(RetriableError, match="500"):
        HttpClient(server, attempts=3, backoff=0.01).request("GET", "/x")


def test_connection_refused_is_retriable() -> None:
    with pytest.raises(RetriableError, match="ConnectionError"):
        HttpClient("http://127.0.0.1:9", attempts=2, backoff=0.01).request("GET", "/")


def test_retry_after_forms() -> None:
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None


def test_connection_dying_mid_answer_is_retriable() -> None:
    class HalfAnswer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.connection.shutdown(2)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), HalfAnswer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RetriableError, match="ChunkedEncodingError"):
            HttpClient(
                f"http://127.0.0.1:{httpd.server_address[1]}", attempts=2, backoff=0.01
            ).request("GET", "/")
    finally:
        httpd.shutdown()
        httpd.server_close()
