"""`credithub serve` runs a real production server: the path `make run` takes, end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL

BIN = Path(sys.executable).parent / "credithub"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    token = demo.stdout.strip().splitlines()[-1]
    created = subprocess.run(
        [BIN, "clients", "create", "--name", "bidding", "--kind", "consumer"], **run
    )  # type: ignore[call-overload]
    consumer = created.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [BIN, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = requests.get(f"{base}/readyz", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert ready.status_code == 200
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
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    # Logs are JSON lines and carry no token.
    assert '"path": "/readyz"' in err
    assert token not in err
    # Every check answered is in the check log once the server has stopped in order.
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'credithub.db'}")
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT subject_code, domain, verdict FROM checks")).all()
    engine.dispose()
    assert sorted((code, domain, verdict) for code, domain, verdict in logged) == sorted(
        (code, domain, verdict) for (code, domain), verdict in verdicts.items()
    )
