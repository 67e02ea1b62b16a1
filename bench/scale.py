"""Screening and feed reads at scale on PostgreSQL: N records over N/5 subjects, beside the same
figures on a database of 100,000 records, so the growth is visible.

Loading (`bench/scale_load.py`): the realistic records of `bench/ingest.py`, each subject named
five times; the first 2,000 subjects written by the hub's own ingest, every further 2,000 made
from those rows with the identities changed, by COPY, in several processes; then ANALYZE.

Measured against `credithub serve` (gunicorn, 2 workers, default settings):
- single check `GET /api/v1/check/{code}?domain=construction` over random subjects of the whole
  database: wrk, 2 threads, 8 connections, p50 and p99 (target p99 ≤ 20 ms);
- a batch check of 10,000 random subjects (target ≤ 1 s);
- feed pages of 1,000 changes (a pull's page), the first and fifteen on from half-way, and
  fifteen from half-way of 500 (the feed's default) and of 100 (target ≤ 50 ms): medians.

    python bench/scale.py [--records 10000000] [--small 100000]
                          [--pg postgresql://postgres@127.0.0.1:5432] [--keep] [--reuse]

`--keep` leaves the databases (bench_<records>) and their instance folders
(/tmp/credithub-scale/<database>, which hold the keys the data was made with) in place;
`--reuse` measures databases kept earlier without loading them again. Needs wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import pages  # noqa: E402  (bench/ is put on the path just above)
import scale_load  # noqa: E402
from check import LUA  # noqa: E402
from ingest import AUTHORITY, _subject, cli, client_token, serve  # noqa: E402
from scale_load import PER_SUBJECT, check_subject  # noqa: E402


def code_of(s: int) -> str:
    """What a single check names subject s by (not a person: persons by POST only)."""
    return _subject(s)["CF_XDR_SHXYM"]


def hub_env(instance: Path, db_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "CREDITHUB_INSTANCE": str(instance),
        "CREDITHUB_CONFIG": "",
        "CREDITHUB_LOGGING_LEVEL": "WARNING",
        "CREDITHUB_DATABASE_URL": db_url,
    }
    env.pop("CREDITHUB_BENCH_DB", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def load(env: dict[str, str], db_url: str, records: int, processes: int) -> float:
    """A new database of `records` records; the seconds it took (ANALYZE included)."""
    admin = create_engine(db_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
                          + "/postgres", isolation_level="AUTOCOMMIT")  # fmt: skip
    name = db_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    instance = Path(env["CREDITHUB_INSTANCE"])
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    start = time.perf_counter()
    cli(env, "init-db")
    client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
    scale_load.load(env, records, processes)
    return time.perf_counter() - start


def counts(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    out = {}
    with engine.connect() as conn:
        for table in ("records", "subjects", "record_changes", "standings"):
            out[table] = int(
                conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            )
        out["size_mb"] = (
            int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
            // 2**20
        )
    engine.dispose()
    return out


def wrk(url: str, seconds: int, token: str, script: str) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 (ms) of the script's requests with the token."""
    return pages.wrk(url, seconds, "-s", script, "-H", f"Authorization: Bearer {token}")


def timed(session: requests.Session, method: str, url: str, **kw: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    resp = session.request(method, url, timeout=120, **kw)
    seconds = time.perf_counter() - start
    if resp.status_code != 200:
        raise SystemExit(f"{method} {url}: {resp.status_code} {resp.text[:300]}")
    return seconds, resp.json()


def measure(env: dict[str, str], records: int, seconds: int) -> dict[str, Any]:
    subjects = records // PER_SUBJECT
    stamp = str(time.time_ns())
    consumer = client_token(env, f"bidding-{stamp}", "consumer")
    peer = client_token(env, f"peer-{stamp}", "admin")  # reads the feed as the sync does
    rng = random.Random(18)
    server, base = serve(env)
    out: dict[str, Any] = {"records": records}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "check.lua"
            # Persons are checked by POST only: the sample is of the others.
            drawn = (rng.randint(1, subjects) for _ in range(30_000))
            sample = [code_of(s) for s in drawn if s % 10][:20_000]
            script.write_text(LUA % ",".join(f'"{c}"' for c in sample))
            wrk(base, 2, consumer, str(script))  # warm: connections, caches
            out["check"] = wrk(base, seconds, consumer, str(script))
        session = requests.Session()
        auth = {"Authorization": f"Bearer {consumer}", "Content-Type": "application/json"}
        chosen = rng.sample(range(1, subjects + 1), min(10_000, subjects))
        body = json.dumps(
            {"domain": "construction", "subjects": [check_subject(s) for s in chosen]}
        )
        batch = []
        for _ in range(3):
            took, answer = timed(session, "POST", f"{base}/api/v1/check", data=body, headers=auth)
            batch.append(took)
        verdicts = [r["verdict"] for r in answer["results"]]
        out["batch"] = (min(batch), statistics.median(batch), verdicts.count("barred"),
                        len(verdicts) - verdicts.count("unknown"))  # fmt: skip
        feed_auth = {"Authorization": f"Bearer {peer}"}
        # A pull asks for 1,000 (the hub connector's page size); the feed's default is 500.
        # The first page five times; the others fifteen pages each, one after another from
        # half-way, as a pull reads them (a page read again would say less of the rest).
        for label, after, limit, times in (
            ("first", 0, 1000, 5), ("deep", records // 2, 1000, 15),
            ("default", records // 2, 500, 15), ("small", records // 2, 100, 15),
        ):  # fmt: skip
            took_all = []
            for n in range(times):
                cursor = after + n * limit if after else 0
                took, page = timed(
                    session, "GET", f"{base}/api/v1/feed?after={cursor}&limit={limit}",
                    headers=feed_auth,
                )  # fmt: skip
                took_all.append(took)
                assert len(page["items"]) == limit, len(page["items"])
            out[f"feed_{label}"] = (statistics.median(took_all), max(took_all))
        out["load"] = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def prepared(args: argparse.Namespace, records: int) -> dict[str, str]:
    name = f"bench_{_short(records)}"
    db_url = f"{args.pg}/{name}"
    env = hub_env(Path(args.instances) / name, db_url)
    if args.resume:
        start = time.perf_counter()
        scale_load.load(env, records, args.processes, resume=True)
        print(f"{name}: load completed in {time.perf_counter() - start:.0f} s", flush=True)
    if (args.reuse or args.resume) and (Path(args.instances) / name).exists():
        found = counts(db_url)
        print(f"{name}: reused, {found}", flush=True)
        if found["records"] != records:
            raise SystemExit(f"{name} holds {found['records']} records, not {records}")
        return env
    seconds = load(env, db_url, records, args.processes)
    found = counts(db_url)
    print(
        f"{name}: loaded {records:,} records over {records // PER_SUBJECT:,} subjects in "
        f"{seconds:.0f} s ({records / seconds:,.0f} records/s, {args.processes} processes, "
        f"ANALYZE included), {found}, load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return env


def _short(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def show(f: dict[str, Any]) -> str:
    rps, p50, p99 = f["check"]
    best, median, barred, known = f["batch"]

    def ms(key: str) -> str:
        return f"{f[key][0] * 1000:.0f} ms (max {f[key][1] * 1000:.0f})"

    return (
        f"{f['records']:>11,} records | single check {rps:,.0f} req/s p50={p50:.1f} ms "
        f"p99={p99:.1f} ms | batch of 10,000 best {best:.2f} s median {median:.2f} s "
        f"(known {known}, barred {barred}) | feed page of 1,000 first {ms('feed_first')}, "
        f"half-way {ms('feed_deep')}; of 500 (the default) half-way {ms('feed_default')}; "
        f"of 100 half-way {ms('feed_small')} "
        f"| load average {f['load']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the database beside it")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--processes", type=int, default=2, help="loading processes")
    parser.add_argument("--seconds", type=int, default=10, help="of wrk per single-check run")
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument("--reuse", action="store_true", help="measure databases kept earlier")
    parser.add_argument("--resume", action="store_true", help="finish a load stopped part-way")
    parser.add_argument("--instances", default="/tmp/credithub-scale")  # noqa: S108
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    sizes = sorted({args.small, args.records})
    envs = {n: prepared(args, n) for n in sizes}
    figures = [measure(envs[n], n, args.seconds) for n in sizes]
    print("PostgreSQL, `credithub serve` 2 workers, wrk 2 threads 8 connections:")
    for f in figures:
        print(show(f))
    if not args.keep:
        for n, env in envs.items():
            admin = create_engine(f"{args.pg}/postgres".replace("postgresql://", "postgresql+psycopg://"),
                                  isolation_level="AUTOCOMMIT")  # fmt: skip
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "bench_{_short(n)}" WITH (FORCE)'))
            admin.dispose()
            shutil.rmtree(env["CREDITHUB_INSTANCE"], ignore_errors=True)


if __name__ == "__main__":
    main()
