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
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{server.base}/readyz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        server.stderr = process.communicate(timeout=30)[1]
