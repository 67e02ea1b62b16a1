"""Real hubs on loopback for federation tests: each its own process, database and config;
and a proxy in front of one that spoils chosen requests."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import requests
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from credithub.trust.keys import Signer
from tests.conftest import PG_URL
from tests.served import BIN, free_port, wait_until_up
from tests.signing import signed_with


def database_for(name: str, folder: Path) -> str:
    """A fresh database for one hub: a SQLite file, or a PostgreSQL database beside the test one."""
    if not PG_URL:
        return f"sqlite:///{folder / 'hub.db'}"
    base, _, test_db = PG_URL.rpartition("/")
    database = f"{test_db}_hub_{name}"  # beside its test database, so parallel runs stay apart
    engine = create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return f"{base}/{database}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Hub:
    def __init__(self, hub_id: str, folder: Path) -> None:
        self.id = hub_id
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = folder / "credithub.toml"
        self.connectors: list[dict[str, Any]] = []
        self.keys: dict[str, list[str]] = {}  # [federation] keys: pinned up front
        self.env = {
            **os.environ, "CREDITHUB_INSTANCE": str(folder), "CREDITHUB_CONFIG": str(self.config),
            "CREDITHUB_DATABASE_URL": database_for(hub_id, folder), "CREDITHUB_HUB_ID": hub_id,
            "CREDITHUB_LOGGING_LEVEL": "WARNING",
        }  # fmt: skip
        self.write_config()
        self.process: subprocess.Popen[str] | None = None
        self.cli("init-db")

    def write_config(self) -> None:
        lines = [f'[hub]\nid = "{self.id}"\nname = "hub {self.id}"\n']
        if self.keys:
            lines.append("[federation.keys]")
            lines.extend(f"{_toml(h)} = [{', '.join(map(_toml, v))}]" for h, v in self.keys.items())
        for c in self.connectors:
            lines.append("[[connectors]]")
            lines.extend(f"{key} = {_toml(value)}" for key, value in c.items())
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def connect(self, name: str, other: Hub, **options: Any) -> None:
        """Give this hub a connector to `other`, with a peer token `other` issues for it."""
        token = other.token("peer", f"peer-{self.id}", "--hub", self.id)
        self.connectors.append(
            {
                "name": name,
                "type": "hub",
                "url": other.url,
                "token": token,
                "push": True,
                "pull": True,
                "interval_seconds": 60,
                "backoff_seconds": 0.05,
                **options,
            }
        )
        self.write_config()

    def signer(self) -> Signer:
        """This hub's signing key, as generated into its instance folder: what an attacker
        who has taken the hub over holds."""
        with open(self.folder / "secrets.toml", "rb") as fh:
            seed = tomllib.load(fh)["signing_key"]
        return Signer.of_seed(base64.b64decode(seed))

    def signed(self, record: dict[str, Any]) -> dict[str, Any]:
        """`record` with this hub's signature."""
        return signed_with(self.signer(), record)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [str(BIN), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if check and out.returncode != 0:
            raise AssertionError(
                f"{self.id}: credithub {' '.join(args)}:\n{out.stdout}{out.stderr}"
            )
        return out

    def token(self, kind: str, name: str, *extra: str) -> str:
        return self.cli("clients", "create", "--name", name, "--kind", kind, *extra).stdout.split()[
            -1
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port), "--workers", "1"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: `kill` takes master and workers
        )
        wait_until_up(f"{self.url}/healthz", self.process)

    def set_clock(self, start: str) -> None:
        """Start this hub's clock (server and commands) at `start` (`[clock] start`); a running
        server is restarted to read it."""
        self.env["CREDITHUB_CLOCK_START"] = start
        if self.process is not None:
            self.stop()
            self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.communicate(timeout=30)
            self.process = None

    def kill(self) -> None:
        """SIGKILL the server, master and workers at once, as a power cut would: nothing
        runs to its end, no transaction in flight commits."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate(timeout=30)
            self.process = None

    def engine(self) -> Engine:
        """An engine on this hub's database, to read what it holds behind its back (no pool:
        each use opens a connection and closes it)."""
        url = self.env["CREDITHUB_DATABASE_URL"]
        return create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
        )

    def get(self, path: str, token: str) -> Any:
        resp = requests.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def verdict(self, token: str, uscc: str, domain: str = "construction") -> str:
        """What a check of `uscc` in `domain` answers here."""
        found: str = self.get(f"/api/v1/check/{uscc}?domain={domain}", token)["verdict"]
        return found

    def records(self, token: str, uscc: str) -> list[dict[str, Any]]:
        """The records this hub holds about `uscc`."""
        found: list[dict[str, Any]] = self.get(f"/api/v1/records?subject={uscc}", token)["items"]
        return found

    def post(self, path: str, token: str, body: Any) -> Any:
        resp = requests.post(
            f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        assert resp.status_code == 200, resp.text
        return resp.json()


class FaultProxy:
    """Forwards to a real hub; each injected fault spoils the next matching request."""

    faults: ClassVar[list[tuple[str, Any, str]]] = []  # (kind, value, path prefix)
    last_feed: ClassVar[bytes | None] = None
    seen: ClassVar[int] = 0  # requests received

    def __init__(self, target: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.handle(self, "GET")

            def do_POST(self) -> None:
                proxy.handle(self, "POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.target = target
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        FaultProxy.faults, FaultProxy.last_feed, FaultProxy.seen = [], None, 0

    def start(self) -> FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(self, kind: str, value: Any = None, times: int = 1, path: str = "/api/v1/") -> None:
        FaultProxy.faults.extend([(kind, value, path)] * times)

    def _take(self, path: str) -> tuple[str, Any, str] | None:
        if path.startswith("/api/v1/hub"):  # whom it talks to, and their keys: never spoiled
            return None
        for i, fault in enumerate(FaultProxy.faults):
            if path.startswith(fault[2]):
                return FaultProxy.faults.pop(i)
        return None

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        FaultProxy.seen += 1
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        fault = self._take(h.path)
        if fault and fault[0] == "status":
            h.send_response(fault[1])
            h.send_header("Retry-After", "0")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        headers = {
            k: v for k, v in h.headers.items() if k.lower() in ("authorization", "content-type")
        }
        upstream = requests.request(
            method, self.target + h.path, data=body, headers=headers, timeout=60
        )
        payload = upstream.content
        if h.path.startswith("/api/v1/feed"):
            if fault and fault[0] == "repeat" and FaultProxy.last_feed is not None:
                payload = FaultProxy.last_feed
            elif fault and fault[0] == "alter":  # a relay rewriting records in transit
                data = json.loads(payload)
                for item in data["items"]:
                    fault[1](item["record"])
                payload = json.dumps(data).encode()
            elif fault and fault[0] == "corrupt":
                data = json.loads(payload)
                if data["items"]:
                    del data["items"][0]["record"]["subject"]
                payload = json.dumps(data).encode()
            FaultProxy.last_feed = upstream.content
        h.send_response(upstream.status_code)
        h.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if fault and fault[0] == "drop":
            h.wfile.write(payload[: len(payload) // 2])  # half the answer, then the line goes dead
            h.wfile.flush()
            h.connection.shutdown(2)
            return
        h.wfile.write(payload)


@contextmanager
def running(*hubs: Hub) -> Iterator[None]:
    """The hubs started, and stopped however the block ends."""
    for hub in hubs:
        hub.start()
    try:
        yield
    finally:
        for hub in hubs:
            hub.stop()


def cities_round(hubs: Mapping[str, Any]) -> None:
    """One round of the three-hub set-up: city A syncs with P (pushes, then pulls), then B."""
    hubs["a"].cli("sync", "run")
    hubs["b"].cli("sync", "run")


def cities_and_province(folder: Path, connected: bool = True) -> tuple[Hub, Hub, Hub]:
    """Cities A and B and province P (not started); with `connected`, each city pushes to and
    pulls from P, as in the README's three-hub set-up."""
    a, p, b = (
        Hub("city-a", folder / "a"),
        Hub("province", folder / "p"),
        Hub("city-b", folder / "b"),
    )
    if connected:
        a.connect("province", p)
        b.connect("province", p)
    return a, p, b
