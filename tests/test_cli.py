"""The command line as a new user meets it: the real `credithub` command in its own process."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sync.hubs import BIN, Hub

PROFILE = "/api/v1/entities/91230500MA1B3N1N2M"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub("cli", tmp_path / "hub")
    try:
        yield hub
    finally:
        hub.stop()


def printed_token(stdout: str) -> str:
    """The token of `credithub demo`'s `token` line."""
    lines = [line.split()[1] for line in stdout.splitlines() if line.startswith("  token ")]
    assert len(lines) == 1, stdout
    return lines[0]


def test_an_error_is_said_once_on_stderr(hub: Hub, tmp_path: Path) -> None:
    hub.cli("clients", "create", "--name", "zhujian", "--kind", "department", "--uscc",
            "11230500001755309F")  # fmt: skip
    unreadable = tmp_path / "not-a-table.csv"
    unreadable.write_text("a,b\n1,2\n", encoding="utf-8")
    out = hub.cli("import", str(unreadable), "--client", "zhujian", check=False)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.count("header has no known 双公示 column") == 1, out.stderr
    twice = hub.cli("clients", "create", "--name", "zhujian", "--kind", "consumer", check=False)
    assert twice.returncode == 1
    assert twice.stderr.strip() == "Error: a client named 'zhujian' exists already (name: taken)"


def test_a_command_before_init_db_says_to_run_it(tmp_path: Path) -> None:
    env = {**os.environ, "CREDITHUB_INSTANCE": str(tmp_path), "CREDITHUB_CONFIG": ""}
    env.pop("CREDITHUB_DATABASE_URL", None)  # a new SQLite file in the instance folder
    out = subprocess.run([BIN, "demo"], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert out.stderr.endswith("run `credithub init-db` first\n"), out.stderr
    assert "Traceback" not in out.stderr


def test_sync_with_no_connector_says_so(hub: Hub) -> None:
    status = hub.cli("sync", "status")
    assert "no connector is configured" in status.stdout
    assert "[[connectors]]" in status.stdout
    assert "keys:" in status.stdout  # the keys this hub knows are still listed
    run = hub.cli("sync", "run")
    assert run.stdout.startswith("no connector is configured: add a [[connectors]] table")
    assert "nothing to fail" in hub.cli("sync", "run", "--help").stdout
    named = hub.cli("sync", "run", "national", check=False)
    assert named.returncode == 1
    assert "no connector named national" in named.stderr


def test_the_demo_keeps_one_admin_token(hub: Hub) -> None:
    first = hub.cli("demo").stdout
    token = printed_token(first)
    kept = hub.folder / "demo-admin-token"
    assert kept.read_text().strip() == token
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "  open     http://127.0.0.1:8080/" in first
    assert f'curl -H "Authorization: Bearer {token}" http://127.0.0.1:8080{PROFILE}' in first
    again = hub.cli("demo", "--url", hub.url).stdout
    assert printed_token(again) == token
    assert f"  open     {hub.url}/" in again
    hub.start()
    assert answer(hub, token) == 200  # a script that stored the first token goes on working
    hub.stop()

    # The file lost while the client lives: the token is rotated once, then kept again.
    kept.unlink()
    rotated = printed_token(hub.cli("demo").stdout)
    assert rotated != token
    assert printed_token(hub.cli("demo").stdout) == rotated
    hub.start()
    assert (answer(hub, token), answer(hub, rotated)) == (401, 200)


def answer(hub: Hub, token: str) -> int:
    """The status of the demo profile asked with `token`."""
    resp = requests.get(hub.url + PROFILE, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return resp.status_code
