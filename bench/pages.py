"""The public profile page under load, beside the JSON profile, on the same server and data.

`credithub serve` (gunicorn, 2 workers) loaded with `credithub demo`; wrk loads
`GET /entities/<uscc>` (the HTML page: profile, standing, its twelve-month history, the forms)
and `GET /api/v1/public/entities/<uscc>` (the JSON profile) in turns (page, JSON, JSON, page …)
so the machine's other load falls on both alike. Prints requests/s, p50 and p99 of each round
and the medians.

Needs wrk (Debian: apt-get install wrk).
    python bench/pages.py [--seconds 5] [--rounds 3] [--pg postgresql://…/postgres]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from ingest import cli, fresh_pg_database, serve  # noqa: E402  (bench/ is on the path above)

SUBJECT = "91512081MA62K0260E"  # the demo's listed company: a restriction, a masked person


def _ms(value: str, unit: str) -> float:
    return (
        float(value) / 1000
        if unit == "us"
        else float(value) * 1000
        if unit == "s"
        else float(value)
    )


def wrk(url: str, seconds: int, *options: str) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 latency (ms) from wrk (2 threads, 8 connections, with
    `options` such as a script or a header); any error answer stops."""
    args = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", *options, url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if not (rps and p50 and p99):
        raise SystemExit(f"wrk's output not understood:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return float(rps.group(1)), _ms(*p50.groups()), _ms(*p99.groups())


def run(db_url: str | None, seconds: int, rounds: int, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Both kinds are read without a token: the default per-address limit of [limits]
        # would refuse the bench after 300 requests, so it is off here (pages, not the limiter).
        env = {**os.environ, "CREDITHUB_INSTANCE": tmp, "CREDITHUB_CONFIG": "",
               "CREDITHUB_LOGGING_LEVEL": "WARNING", "CREDITHUB_LIMITS_PUBLIC": ""}  # fmt: skip
        env.pop("CREDITHUB_DATABASE_URL", None)
        env.pop("CREDITHUB_BENCH_DB", None)
        if db_url:
            env["CREDITHUB_DATABASE_URL"] = db_url
        cli(env, "init-db")
        cli(env, "demo")
        server, base = serve(env)
        try:
            urls = {
                "page": f"{base}/entities/{SUBJECT}",
                "json": f"{base}/api/v1/public/entities/{SUBJECT}",
            }
            for url in urls.values():
                assert requests.get(url, timeout=10).status_code == 200
                wrk(url, 1)  # warm (imports, caches, connections)
            figures: dict[str, list[tuple[float, float, float]]] = {k: [] for k in urls}
            for n in range(rounds):
                order = ("page", "json") if n % 2 == 0 else ("json", "page")
                for kind in order:
                    figures[kind].append(wrk(urls[kind], seconds))
                (p_rps, p_50, p_99), (j_rps, j_50, j_99) = figures["page"][-1], figures["json"][-1]
                print(
                    f"public profile ({label}, gunicorn 2 workers, wrk 8 connections), round "
                    f"{n + 1}: page {p_rps:,.0f} req/s p50={p_50:.1f} ms p99={p_99:.1f} ms | "
                    f"JSON {j_rps:,.0f} req/s p50={j_50:.1f} ms p99={j_99:.1f} ms | "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
            for kind, name in (("page", "HTML page"), ("json", "JSON profile")):
                rps, p50, p99 = (statistics.median(f[i] for f in figures[kind]) for i in range(3))
                print(
                    f"{name} ({label}): median {rps:,.0f} req/s, p50={p50:.1f} ms, "
                    f"p99={p99:.1f} ms over {rounds} rounds"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    run(None, args.seconds, args.rounds, "SQLite")
    if args.pg:  # '' skips PostgreSQL
        run(fresh_pg_database(args.pg), args.seconds, args.rounds, "PostgreSQL")


if __name__ == "__main__":
    main()
