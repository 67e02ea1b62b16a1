"""Screening speed (issue: Score and screen), each figure beside its baseline in the same run.

1. Single check over HTTP: `credithub serve` (gunicorn, 2 workers) loaded by wrk, beside a bare
   Flask JSON endpoint served and loaded the same way: throughput, p99 and the ratio. Both
   servers run side by side and are loaded in turns (hub, bare, bare, hub, hub, bare …), so
   load from other processes on the machine falls on both alike; each round's ratio is
   printed, then the median.
2. Batch check of 10,000 subjects (POST /api/v1/check): server time, on SQLite and PostgreSQL.

Needs wrk (Debian: apt-get install wrk).
    python bench/check.py [--subjects 10000] [--seconds 5] [--rounds 3] [--pg postgresql://…/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from ingest import (  # noqa: E402  (bench/ is put on the path just above)
    AUTHORITY,
    api_records,
    cli,
    client_token,
    free_port,
    fresh_pg_database,
    serve,
    uscc,
)

LUA = """
local codes = {%s}
local i = 0
request = function()
  i = (i %% #codes) + 1
  return wrk.format("GET", "/api/v1/check/" .. codes[i] .. "?domain=construction")
end
"""


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.returncode}") from None
            time.sleep(0.1)
    raise SystemExit("server did not start")


def wrk(
    url: str, seconds: int, headers: dict[str, str], script: str | None = None
) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) from wrk."""
    args = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    value, unit = float(p99.group(1)), p99.group(2)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return rps, value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def seed(env: dict[str, str], base: str, token: str, n: int) -> None:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    for start in range(0, n, 5000):
        records = api_records(min(5000, n - start), start, shape="uniform")
        for i, r in enumerate(records):
            if (start + i) % 10 == 0:  # every tenth subject is listed: barred in every domain
                r.update(kind="blacklist", list="ggzy-serious", listed_on=r["decided_on"])
                for key in ("categories", "fine_yuan", "violation", "facts", "content"):
                    r.pop(key)
        resp = session.post(
            f"{base}/api/v1/records", json={"records": records}, headers=headers, timeout=600
        )
        if resp.status_code != 200 or resp.json()["rejected"]:
            raise SystemExit(resp.text[:500])


def run_hub(
    db_url: str | None, subjects: int, seconds: int, rounds: int, label: str, single: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CREDITHUB_INSTANCE": tmp,
            "CREDITHUB_CONFIG": "",
            "CREDITHUB_LOGGING_LEVEL": "WARNING",
        }
        env.pop("CREDITHUB_DATABASE_URL", None)
        env.pop("CREDITHUB_BENCH_DB", None)  # the bench's own; the hub refuses unknown variables
        if db_url:
            env["CREDITHUB_DATABASE_URL"] = db_url
        cli(env, "init-db")
        dept = client_token(env, "zhujian", "department", "--uscc", AUTHORITY)
        consumer = client_token(env, "bidding", "consumer")
        server, base = serve(env)
        try:
            seed(env, base, dept, subjects)
            auth = {"Authorization": f"Bearer {consumer}"}
            if single:
                script = Path(tmp) / "check.lua"
                codes = ",".join(f'"{uscc(i)}"' for i in range(1, min(subjects, 2000) + 1))
                script.write_text(LUA % codes)
                single_check(base, auth, str(script), seconds, rounds, label)
            body = json.dumps(
                {
                    "domain": "construction",
                    "subjects": [{"uscc": uscc(i)} for i in range(1, 10_001)],
                }
            )
            times = []
            for _ in range(3):
                start = time.perf_counter()
                resp = requests.post(
                    f"{base}/api/v1/check",
                    data=body,
                    timeout=120,
                    headers={**auth, "Content-Type": "application/json"},
                )
                times.append(time.perf_counter() - start)
                assert resp.status_code == 200, resp.text[:300]
            verdicts = [r["verdict"] for r in resp.json()["results"]]
            print(
                f"batch check of 10,000 subjects ({label}): best {min(times):.2f} s, "
                f"median {sorted(times)[1]:.2f} s (barred {verdicts.count('barred')}, "
                f"known {subjects if subjects < 10_000 else 10_000})"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


def single_check(
    base: str, auth: dict[str, str], script: str, seconds: int, rounds: int, label: str
) -> None:
    with bare_server() as bare_url:

        def hub(s: int) -> tuple[float, float]:
            return wrk(base, s, auth, script)

        def flask(s: int) -> tuple[float, float]:
            return wrk(bare_url, s, {})

        hub(1), flask(1)  # warm both (imports, caches, connections)
        ratios: list[float] = []
        p99s: list[float] = []
        for n in range(rounds):
            # The hub first in even rounds, the bare app first in odd ones: a drift in the
            # machine's other load favours neither.
            if n % 2 == 0:
                (rps, p99), (bare_rps, bare_p99) = hub(seconds), flask(seconds)
            else:
                (bare_rps, bare_p99), (rps, p99) = flask(seconds), hub(seconds)
            ratios.append(rps / bare_rps)
            p99s.append(p99)
            print(
                f"single check over HTTP ({label}, gunicorn 2 workers, wrk 8 connections), "
                f"round {n + 1}: {rps:,.0f} req/s p99={p99:.1f} ms | bare Flask JSON "
                f"{bare_rps:,.0f} req/s p99={bare_p99:.1f} ms | ratio={ratios[-1]:.2f} | "
                f"load average {os.getloadavg()[0]:.2f}"  # the machine's, this bench's own included
            )
        print(
            f"single check: median ratio over {rounds} rounds={statistics.median(ratios):.2f}, "
            f"worst p99={max(p99s):.1f} ms"
        )


@contextmanager
def bare_server() -> Iterator[str]:
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "bare_app:app"],
        cwd=BENCH,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/json", proc)
        yield f"http://127.0.0.1:{port}/json"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    run_hub(None, args.subjects, args.seconds, args.rounds, "SQLite", single=True)
    if args.pg:
        pg = fresh_pg_database(args.pg)
        run_hub(pg, args.subjects, args.seconds, args.rounds, "PostgreSQL", single=False)


if __name__ == "__main__":
    main()
