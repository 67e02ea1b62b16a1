"""Real hubs on loopback for federation tests: each its own process, database and config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL

BIN = Path(sys.executable).parent / "credithub"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"hub {self.id} did not start: {self.process.communicate()[1]}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.communicate(timeout=30)
            self.process = None

    def get(self, path: str, token: str) -> Any:
        resp = requests.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, path: str, token: str, body: Any) -> Any:
        resp = requests.post(
            f"{self.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        assert resp.status_code == 200, resp.text
        return resp.json()
