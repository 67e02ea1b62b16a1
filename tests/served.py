"""`credithub serve` (gunicorn, as in production) on a free loopback port, for the tests that
need the real server: its workers, its sockets, its logs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

BIN = Path(sys.executable).parent / "credithub"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    """Until `url` answers; an AssertionError with the server's log if it ends or is late."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = process.communicate()[1]
                raise AssertionError(f"the server did not start: {log}") from None
            time.sleep(0.1)


@dataclass
class Served:
    base: str  # http://127.0.0.1:<port>
    port: int
    process: subprocess.Popen[str]
    stderr: str = ""  # what the server logged, once it has stopped


@contextmanager
def served(env: Mapping[str, str], cwd: Path, workers: int = 2) -> Iterator[Served]:
    """The server, started with `env` in `cwd` and answering /readyz; stopped in order (its
    workers write what they buffer) when the block ends, its log then in `stderr`."""
    port = free_port()
    process = subprocess.Popen(
        [BIN, "serve", "--port", str(port), "--workers", str(workers)],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Served(f"http://127.0.0.1:{port}", port, process)
    try:
        wait_until_up(f"{server.base}/readyz", process)
        yield server
    finally:
        process.terminate()
        server.stderr = process.communicate(timeout=30)[1]
