"""The served hub against hostile clients: stalled connections, and what gunicorn refuses.

Each test starts `credithub serve` (gunicorn) on a free loopback port, as in production.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.served import served as serve


@contextmanager
def served(cli_env: dict[str, str], tmp_path: Path, **env: str) -> Iterator[str]:
    """`credithub serve` with 2 workers on a free loopback port; yields its base URL."""
    with serve({**os.environ, **cli_env, **env}, tmp_path) as server:
        yield server.base


def _connect(port: int, send: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if send:
        sock.sendall(send)
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """True if the server ends the connection within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        sock.close()


def test_stalled_connections_do_not_hold_the_server_and_are_closed(
    cli_env: dict[str, str], tmp_path: Path, make_token: Callable[..., dict[str, str]]
) -> None:
    auth = make_token("consumer")
    env = {"CREDITHUB_SERVER_THREADS": "4", "CREDITHUB_SERVER_READ_TIMEOUT_SECONDS": "3"}
    with served(cli_env, tmp_path, **env) as base:
        port = int(base.rsplit(":", 1)[1])
        # Fifty connections send half a request and stall (more than every thread of both
        # workers), and ten send nothing at all.
        half = b"GET /api/v1/check/91230500MA1B3N1N2M?domain=construction HTTP/1.1\r\nHost: a\r\n"
        stalled = [_connect(port, half) for _ in range(50)]
        idle = [_connect(port, b"") for _ in range(10)]
        time.sleep(1)  # every thread has taken a stalled connection by now
        # A check still answers (it waits at most for the read timeout, not for good).
        answer = requests.get(
            f"{base}/api/v1/check/91230500MA1B3N1N2M?domain=construction",
            headers=auth,
            timeout=30,
        )
        assert answer.status_code in (200, 404), answer.text
        # The stalled and the idle connections are closed by the server.
        assert all(_closed_by_server(sock, within=30) for sock in stalled + idle)


def test_what_gunicorn_refuses_is_answered_in_the_json_error_shape(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    with served(cli_env, tmp_path) as base:
        long = requests.get(f"{base}/api/v1/public/search?q={'a' * 5000}", timeout=10)
        assert long.status_code == 414
        assert long.headers["Content-Type"].startswith("application/json")
        assert long.json() == {
            "code": 414,
            "status": "Request URI Too Long",
            "message": "the request line is longer than 4094 bytes",
            "errors": {},
        }
        port = int(base.rsplit(":", 1)[1])
        sock = _connect(port, "GET /api/v1/entities/北疆 HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        with sock:
            raw = b""
            while chunk := sock.recv(4096):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"Content-Type: application/json" in head
        shape = json.loads(body)
        assert shape["code"] == 400
        assert shape["status"] == "Bad Request"
        assert set(shape) == {"code", "status", "message", "errors"}
