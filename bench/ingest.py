"""Ingest speed (issue: Collect), each figure beside a bare baseline measured in the same run.

1. File import of N 双公示 rows (CSV, GBK) with `credithub import` on SQLite, end to end
   (process start, parsing, validation, subjects, records, change log, audit, commits).
2. HTTP bulk push of N records in requests of 5,000 to `credithub serve` (gunicorn, 2 workers),
   on SQLite and on PostgreSQL, over one connection (requests one after another) and over two
   (a department's system sending two requests at a time).
Baseline: the same rows inserted with plain `executemany` into one table of the same database.

Two shapes of data, each figure printed per shape:
- `realistic` (the target): N rows over N/4 subjects, each subject named four times spread
  through the file; 10 % natural persons (with ID numbers), 5 % individual businesses, the
  rest organizations each naming its legal representative with an ID number; categories,
  fines and decision dates (2022–2026) varied; platform columns (RESOURCE_ID, CHECK_FLAG, ID,
  COMP_NAME) as real exports carry them.
- `uniform`: every row a new organization, one category pair, no legal representative (the
  shape the earlier figures were measured on; kept for comparison).

    python bench/ingest.py [--rows 100000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                           [--connections 1 2] [--only-pg] [--shape realistic uniform]
                           [--parts import sqlite pg]
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


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(n: int) -> str:
    """A valid 居民身份证号 (GB 11643), a different one for each n below 16,800,000."""
    year, month, day = 1950 + n // 1000 % 50, 1 + n // 50_000 % 12, 1 + n // 600_000 % 28
    body = f"150702{year}{month:02d}{day:02d}{n % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def individual_uscc(n: int) -> str:
    org8 = f"{n:08d}"
    body = "92150700" + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


# (处罚类别, 处罚内容, fined): from warnings and fines to serious measures.
CATEGORIES = (
    ("警告", "警告", False),
    ("罚款", "处罚款", True),
    ("警告;罚款", "警告并处罚款", True),
    ("通报批评", "通报批评", False),
    ("没收违法所得;罚款", "没收违法所得并处罚款", True),
    ("暂扣许可证件", "暂扣安全生产许可证", False),
    ("降低资质等级", "降低建筑业企业资质等级", False),
    ("责令停产停业;罚款", "责令停业整顿并处罚款", True),
)


def _subject(s: int) -> dict[str, str]:
    """The subject columns of subject s: 10 % persons, 5 % individual businesses."""
    if s % 10 == 0:
        return {"CF_XDR_MC": f"张{s}", "CF_XDR_LB": "自然人", "CF_XDR_SHXYM": "",
                "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": id_number(s), "CF_FRDB": "",
                "CF_FR_ZJLX": "", "CF_FR_ZJHM": ""}  # fmt: skip
    if s % 20 == 5:
        return {"CF_XDR_MC": f"海拉尔区第{s}建材经营部", "CF_XDR_LB": "个体工商户",
                "CF_XDR_SHXYM": individual_uscc(s), "CF_XDR_ZJLX": "", "CF_XDR_ZJHM": "",
                "CF_FRDB": f"李{s}", "CF_FR_ZJLX": "", "CF_FR_ZJHM": ""}  # fmt: skip
    return {"CF_XDR_MC": f"呼伦贝尔市第{s}建筑工程有限公司", "CF_XDR_LB": "法人及非法人组织",
            "CF_XDR_SHXYM": uscc(s), "CF_XDR_ZJLX": "", "CF_XDR_ZJHM": "",
            "CF_FRDB": f"王{s}", "CF_FR_ZJLX": "身份证",
            "CF_FR_ZJHM": id_number(1_000_000 + s)}  # fmt: skip


def sgs_rows(n: int, shape: str = "realistic") -> list[dict[str, str]]:
    """N 双公示 rows; `realistic` names each of N/4 subjects four times, spread through the file."""
    subjects = max(1, n // 4)
    rows = []
    for i in range(1, n + 1):
        if shape == "uniform":
            subject = {"CF_XDR_MC": f"呼伦贝尔市第{i}建筑工程有限公司",
                       "CF_XDR_LB": "法人及非法人组织", "CF_XDR_SHXYM": uscc(i),
                       "CF_XDR_ZJLX": "", "CF_XDR_ZJHM": "", "CF_FRDB": "王建军",
                       "CF_FR_ZJLX": "", "CF_FR_ZJHM": ""}  # fmt: skip
            categories, content, fined = CATEGORIES[2]
            decided = f"2026-{1 + i % 9:02d}-{1 + i % 27:02d}"
        else:
            # A multiplicative step spreads a subject's four rows through the file.
            subject = _subject(1 + (i * 7919) % subjects)
            categories, content, fined = CATEGORIES[(i * 31) % len(CATEGORIES)]
            decided = f"{2022 + i % 5}-{1 + i % 11:02d}-{1 + (i * 13) % 28:02d}"
        rows.append(
            {
                **subject,
                "CF_WSH": f"呼住建罚〔{decided[:4]}〕{i}号",
                "CF_WFXW": "违反建筑市场管理规定",
                "CF_SY": "未取得施工许可证擅自施工",
                "CF_YJ": "《建筑法》第六十四条",
                "CF_CFLB": categories,
                "CF_NR": content,
                "CF_NR_FK": f"{(i % 50) / 10 + 0.1:.1f}" if fined else "",
                "CF_JDRQ": decided,
                "CF_YXQ": f"{int(decided[:4]) + 1 + i % 3}{decided[4:]}",
                "CF_CFJG": "呼伦贝尔市住房和城乡建设局",
                "CF_CFJGDM": AUTHORITY,
                "CF_SJLY": "呼伦贝尔市住房和城乡建设局",
                "CF_SJLYDM": AUTHORITY,
                "RESOURCE_ID": f"R{i}",
                "CHECK_FLAG": "1",
                "ID": f"{i:012d}",
                "COMP_NAME": subject["CF_XDR_MC"],
            }
        )
    return rows


def api_subject(r: dict[str, str]) -> dict[str, Any]:
    """The subject of a 双公示 row, as the push API takes it."""
    kind = {"自然人": "person", "个体工商户": "individual_business"}.get(
        r["CF_XDR_LB"], "organization"
    )
    subject: dict[str, Any] = {"type": kind, "name": r["CF_XDR_MC"]}
    if kind == "person":
        subject.update(id_type="身份证", id_number=r["CF_XDR_ZJHM"])
    else:
        subject["uscc"] = r["CF_XDR_SHXYM"]
    if r["CF_FR_ZJHM"]:
        subject["legal_rep"] = {"name": r["CF_FRDB"], "id_type": "身份证",
                                "id_number": r["CF_FR_ZJHM"]}  # fmt: skip
    elif r["CF_FRDB"]:
        subject["legal_rep"] = {"name": r["CF_FRDB"]}
    return subject


def api_records(n: int, offset: int = 0, shape: str = "realistic") -> list[dict[str, Any]]:
    """The same records as `sgs_rows`, as the push API takes them."""
    rows = sgs_rows(offset + n, shape)[offset:]
    out = []
    for r in rows:
        record: dict[str, Any] = {
            "kind": "penalty",
            "ref": r["CF_WSH"],
            "subject": api_subject(r),
            "decided_on": r["CF_JDRQ"],
            "categories": r["CF_CFLB"].split(";"),
            "violation": r["CF_WFXW"],
            "facts": r["CF_SY"],
            "basis": r["CF_YJ"],
            "content": r["CF_NR"],
        }
        if r["CF_NR_FK"]:
            record["fine_yuan"] = f"{float(r['CF_NR_FK']) * 10000:.2f}"
        out.append(record)
    return out


def baseline(url: str, rows: list[dict[str, Any]]) -> float:
    """Seconds to insert the rows, flat, with one executemany into one table."""
    engine = create_engine(url)
    cols = list(dict.fromkeys(c for r in rows for c in r))
    flat = [
        {
            c: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
            for c in cols
            for v in [r.get(c)]
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


def bench_import(n: int, shape: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = hub_env(work, None)
        client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
        rows = sgs_rows(n, shape)
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
            f"[{shape}] file import (CSV, GBK, SQLite, end to end)",
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


def bench_push(n: int, db_url: str | None, label: str, connections: int, shape: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = hub_env(work, db_url)
        token = client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
        server, base = serve(env)
        try:
            batch = 5000
            records = api_records(n, 0, shape)
            bodies = [
                json.dumps({"records": records[i : i + batch]}, ensure_ascii=False).encode()
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
            f"[{shape}] HTTP push in requests of 5,000 over {connections} connection(s) ({label})",
            n,
            seconds,
            baseline(url.replace("postgresql://", "postgresql+psycopg://"), records),
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
        "--parts",
        nargs="+",
        choices=["import", "sqlite", "pg"],
        default=["import", "sqlite", "pg"],
        help="which figures: the file import, the push to SQLite, the push to PostgreSQL",
    )
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[1, 2],
        help="push over this many connections at once (each figure printed)",
    )
    parser.add_argument(
        "--shape",
        nargs="+",
        choices=["realistic", "uniform"],
        default=["realistic", "uniform"],
        help="which data shapes to measure (see the module docstring)",
    )
    args = parser.parse_args()
    parts = {"pg"} if args.only_pg else set(args.parts)
    for shape in args.shape:
        if "import" in parts:
            bench_import(args.rows, shape)
        if "sqlite" in parts:
            for connections in args.connections:
                bench_push(args.rows, None, "SQLite", connections, shape)
        if args.pg and "pg" in parts:
            for connections in args.connections:
                db = fresh_pg_database(args.pg)
                bench_push(args.rows, db, "PostgreSQL", connections, shape)


if __name__ == "__main__":
    main()
