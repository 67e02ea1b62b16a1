"""A webhook receiver on loopback: a real HTTP server in a thread that keeps what it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook as Verifier


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> Any:
        """The body, once Standard Webhooks' own verifier accepts its signature."""
        return Verifier(secret).verify(self.body, self.headers)

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    """Answers each POST with the next of `statuses` (then 204), keeping every request."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/credithub"

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.json["type"] == event_type]


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=10)
