"""`credithub serve` runs a real production server: the path `make run` takes, end to end."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL
from tests.records.samples import ZHUJIAN, penalty
from tests.served import BIN, served

AUTHORITY = {"uscc": ZHUJIAN, "name": "呼伦贝尔市住房和城乡建设局"}
PUSHED = "呼住建罚〔2026〕检"  # the refs of the records pushed to the server


@pytest.mark.skipif(
    bool(PG_URL), reason="the embedded-SQLite path of `make run`; PostgreSQL is covered elsewhere"
)
def test_init_demo_serve_and_fetch(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CREDITHUB_INSTANCE": str(tmp_path / "instance"),
        "CREDITHUB_CONFIG": "",
        # Buffered check-log rows are written only when the workers end (see below).
        "CREDITHUB_CHECK_LOG_FLUSH_MS": "3600000",
    }
    env.pop("CREDITHUB_DATABASE_URL", None)
    run = {"env": env, "cwd": tmp_path, "capture_output": True, "text": True, "check": True}
    subprocess.run([BIN, "init-db"], **run)  # type: ignore[call-overload]
    demo = subprocess.run([BIN, "demo"], **run)  # type: ignore[call-overload]
    token = (tmp_path / "instance" / "demo-admin-token").read_text().strip()
    assert f"  token    {token}" in demo.stdout
    created = subprocess.run(
        [BIN, "clients", "create", "--name", "bidding", "--kind", "consumer"], **run
    )  # type: ignore[call-overload]
    consumer = created.stdout.strip().splitlines()[-1]
    with served(env, tmp_path) as server:
        base = server.base
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        for auth in (token, consumer):
            resp = requests.get(
                f"{base}/api/v1/entities/91230500MA1B3N1N2M",
                headers={"Authorization": f"Bearer {auth}"},
                timeout=5,
            )
            assert resp.status_code == 200
            assert resp.json()["name"] == "呼伦贝尔市北疆建筑工程有限公司"
        assert (
            requests.get(f"{base}/api/v1/entities/91230500MA1B3N1N2M", timeout=5).status_code == 401
        )
        # The demo's listed company is barred everywhere; its fined one only in procurement.
        auth = {"Authorization": f"Bearer {consumer}"}
        verdicts = {
            (code, domain): requests.get(
                f"{base}/api/v1/check/{code}?domain={domain}", headers=auth, timeout=5
            ).json()["verdict"]
            for code in ("91512081MA62K0260E", "914403001922038216")
            for domain in ("construction", "procurement")
        }
        assert verdicts == {
            ("91512081MA62K0260E", "construction"): "barred",
            ("91512081MA62K0260E", "procurement"): "barred",
            ("914403001922038216", "construction"): "clear",
            ("914403001922038216", "procurement"): "barred",
        }
        # A worker's commits leave copying the log into the database file to a thread of the
        # worker: a small push (far below SQLite's own 4 MiB trigger) reaches the file itself.
        pushed = requests.post(
            f"{base}/api/v1/records",
            json={"records": [penalty(f"{PUSHED}{n}号", authority=AUTHORITY) for n in (1, 2, 3)]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["accepted"] == 3
        database = tmp_path / "instance" / "credithub.db"
        deadline = time.monotonic() + 10
        while _records_in_the_file_alone(database, tmp_path) < 3:
            assert time.monotonic() < deadline, "the log was not copied into the database file"
            time.sleep(0.2)
    # Logs are JSON lines and carry no token.
    assert '"path": "/readyz"' in server.stderr
    assert token not in server.stderr
    # Every check answered is in the check log once the server has stopped in order.
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'credithub.db'}")
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT subject_code, domain, verdict FROM checks")).all()
    engine.dispose()
    assert sorted((code, domain, verdict) for code, domain, verdict in logged) == sorted(
        (code, domain, verdict) for (code, domain), verdict in verdicts.items()
    )


def _records_in_the_file_alone(database: Path, tmp_path: Path) -> int:
    """Pushed records the database file holds without its log (a copy read alone)."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(database, alone)
    connection = sqlite3.connect(alone)
    try:
        query = "SELECT count(*) FROM records WHERE ref LIKE ?"
        return int(connection.execute(query, (f"{PUSHED}%",)).fetchone()[0])
    finally:
        connection.close()
        alone.unlink()
