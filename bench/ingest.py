"""Ingest speed (issue: Collect), each figure beside a bare baseline measured in the same run.

1. File import of N 双公示 rows (CSV, GBK) with `credithub import` on SQLite, end to end
   (process start, parsing, validation, subjects, records, change log, audit, commits).
2. HTTP bulk push of N records in requests of 5,000 to `credithub serve` (gunicorn, 2 workers),
   on SQLite and on PostgreSQL, over one connection (requests one after another) and over two
   (a department's system sending two requests at a time).
Baseline: the same rows inserted with plain `executemany` into one table of the same database.

    python bench/ingest.py [--rows 100000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                           [--connections 1 2] [--only-pg]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credithub.entities.identifiers import org_code_check_char, uscc_check_char  # noqa: E402

BIN = Path(sys.executable).parent / "credithub"
AUTHORITY = "11230500001755309F"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(n: int) -> str:
    org8 = f"{n:08d}"
    body = "91150700" + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


def sgs_rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "CF_XDR_MC": f"呼伦贝尔市第{i}建筑工程有限公司",
            "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_SHXYM": uscc(i),
            "CF_FRDB": "王建军",
            "CF_WSH": f"呼住建罚〔2026〕{i}号",
            "CF_WFXW": "违反建筑市场管理规定",
            "CF_SY": "未取得施工许可证擅自施工",
            "CF_YJ": "《建筑法》第六十四条",
            "CF_CFLB": "警告;罚款",
            "CF_NR": "警告并处罚款",
            "CF_NR_FK": f"{(i % 50) / 10:.1f}",
            "CF_JDRQ": f"2026-{1 + i % 9:02d}-{1 + i % 27:02d}",
            "CF_YXQ": "2027-12-31",
            "CF_CFJG": "呼伦贝尔市住房和城乡建设局",
            "CF_CFJGDM": AUTHORITY,
            "CF_SJLY": "呼伦贝尔市住房和城乡建设局",
            "CF_SJLYDM": AUTHORITY,
            "RESOURCE_ID": f"R{i}",
        }
        for i in range(1, n + 1)
    ]


def api_records(n: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "kind": "penalty",
            "ref": f"呼住建罚〔2026〕{i}号",
            "subject": {
                "type": "organization",
                "name": f"呼伦贝尔市第{i}建筑工程有限公司",
                "uscc": uscc(i),
            },
            "decided_on": f"2026-{1 + i % 9:02d}-{1 + i % 27:02d}",
            "categories": ["警告", "罚款"],
            "fine_yuan": f"{(i % 50) * 1000}.00",
            "violation": "违反建筑市场管理规定",
            "facts": "未取得施工许可证擅自施工",
            "basis": "《建筑法》第六十四条",
            "content": "警告并处罚款",
        }
        for i in range(offset + 1, offset + n + 1)
    ]


def baseline(url: str, rows: list[dict[str, Any]]) -> float:
    """Seconds to insert the rows, flat, with one executemany into one table."""
    engine = create_engine(url)
    cols = list(rows[0])
    flat = [
        {
            c: (json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], dict | list) else r[c])
            for c in cols
        }
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        conn.execute(text(f"CREATE TABLE bench_baseline ({', '.join(f'{c} TEXT' for c in cols)})"))
    start = time.perf_counter()
    with engine.begin() as conn:
        placeholders = ", ".join(":" + c for c in cols)  # column names are our own constants
        conn.execute(text(f"INSERT INTO bench_baseline VALUES ({placeholders})"), flat)  # noqa: S608
    seconds = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_baseline"))
    engine.dispose()
    return seconds


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"credithub {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def client_token(env: dict[str, str], name: str, kind: str, *extra: str) -> str:
    """Create an API client with the CLI; its token is the last line printed."""
    return cli(env, "clients", "create", "--name", name, "--kind", kind, *extra).split()[-1]


def hub_env(work: Path, db_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "CREDITHUB_INSTANCE": str(work),
        "CREDITHUB_CONFIG": "",
        "CREDITHUB_LOGGING_LEVEL": "WARNING",
    }
    env.pop("CREDITHUB_DATABASE_URL", None)
    # As installed: the hub's own modules are compiled once, not at every start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if db_url:
        env["CREDITHUB_DATABASE_URL"] = db_url
    cli(env, "init-db")
    return env


def report(name: str, n: int, seconds: float, base: float) -> None:
    rate, base_rate = n / seconds, n / base
    print(
        f"{name}: rows={n} seconds={seconds:.2f} rows_per_s={rate:,.0f} | "
        f"baseline executemany rows_per_s={base_rate:,.0f} | ratio={rate / base_rate:.3f}"
    )


def bench_import(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = hub_env(work, None)
        client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
        rows = sgs_rows(n)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        path = work / "penalties.csv"
        path.write_bytes(buf.getvalue().encode("gbk"))
        start = time.perf_counter()
        summary = cli(env, "import", str(path), "--client", "zhujian")
        seconds = time.perf_counter() - start
        assert f"created {n}," in summary, summary
        report(
            "file import (CSV, GBK, SQLite, end to end)",
            n,
            seconds,
            baseline(f"sqlite:///{work / 'credithub.db'}", rows),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """Start `credithub serve` on a free loopback port; return it and its base URL once up."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{base}/healthz", timeout=1)
            return server, base
        except requests.ConnectionError:
            if server.poll() is not None:
                raise SystemExit(f"server exited: {server.returncode}") from None
            time.sleep(0.1)
    raise SystemExit("server did not start")


def bench_push(n: int, db_url: str | None, label: str, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = hub_env(work, db_url)
        token = client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
        server, base = serve(env)
        try:
            batch = 5000
            bodies = [
                json.dumps(
                    {"records": api_records(min(batch, n - i), i)}, ensure_ascii=False
                ).encode()
                for i in range(0, n, batch)
            ]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            local = threading.local()

            def post(body: bytes) -> None:
                if not hasattr(local, "session"):
                    local.session = requests.Session()
                resp = local.session.post(
                    f"{base}/api/v1/records", data=body, headers=headers, timeout=300
                )
                if resp.status_code != 200 or resp.json()["rejected"]:
                    raise SystemExit(f"push failed: {resp.text[:500]}")

            start = time.perf_counter()
            # One connection sends its requests one after another; with two, one request is
            # checked (outside the write lock) while the other is written.
            with ThreadPoolExecutor(connections) as pool:
                list(pool.map(post, bodies))
            seconds = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=30)
        url = db_url or f"sqlite:///{work / 'credithub.db'}"
        report(
            f"HTTP push in requests of 5,000 over {connections} connection(s) ({label})",
            n,
            seconds,
            baseline(url.replace("postgresql://", "postgresql+psycopg://"), api_records(n)),
        )


def fresh_pg_database(admin_url: str) -> str:
    """A new database credithub_bench (CREDITHUB_BENCH_DB names another) on the given server."""
    name = os.environ.get("CREDITHUB_BENCH_DB", "credithub_bench")
    engine = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (a database credithub_bench is created on it); '' skips",
    )
    parser.add_argument("--only-pg", action="store_true", help="just the PostgreSQL push")
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[1, 2],
        help="push over this many connections at once (each figure printed)",
    )
    args = parser.parse_args()
    if not args.only_pg:
        bench_import(args.rows)
        for connections in args.connections:
            bench_push(args.rows, None, "SQLite", connections)
    if args.pg:
        for connections in args.connections:
            bench_push(args.rows, fresh_pg_database(args.pg), "PostgreSQL", connections)


if __name__ == "__main__":
    main()
