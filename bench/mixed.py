"""Mixed traffic on PostgreSQL: single checks, small pushes and feed reads at once.

`credithub serve` (gunicorn, 2 workers, default settings) on a database loaded with realistic
records (`bench/scale_load.py`: persons, individual businesses and organizations with legal
representatives, each subject named five times, categories, fines and dates varied), then
for `--seconds` (60) a closed loop of `--connections` (8) keep-alive connections, each request
drawn at random:
- 90 % `GET /api/v1/check/{uscc}?domain=construction` of a random known subject (consumer);
- 9 % `POST /api/v1/records` of 10 records (two subjects, new or already held) by one of two
  departments;
- 1 % `GET /api/v1/feed?after=…&limit=1000` from a random place of the feed (peer).
Baseline, same run, same server, same connections: checks alone for `--baseline-seconds`.
Prints throughput, p50 and p99 per kind and overall, and the errors (any answer but 200, or a
push with a rejected record): there must be none, else the exit status is 1.

Driver: Python processes (`--processes`, 2) each running its share of the connections as
threads over `http.client` keep-alive connections; it prints its own CPU time, so whether it
could be the bottleneck is visible.

    python bench/mixed.py [--seconds 60] [--connections 8] [--records 100000] [--quick]
                          [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import scale_load  # noqa: E402  (bench/ is put on the path just above)
from ingest import AUTHORITY, _subject, client_token, serve, uscc  # noqa: E402
from scale import hub_env  # noqa: E402

KINDS = ("check", "push", "feed")


def _valid(code: str) -> str:
    """A USCC with its check character made right (an authority's, 11…)."""
    from credithub.entities.identifiers import uscc_check_char

    return code[:17] + uscc_check_char(code[:17])


def plan(args: argparse.Namespace, held: int) -> dict[str, Any]:
    """What the drivers send: codes to check, push bodies (two subjects each), feed cursors."""
    rng = random.Random(18)
    drawn = (_subject(rng.randint(1, held))["CF_XDR_SHXYM"] for _ in range(30_000))
    codes = [c for c in drawn if c][:20_000]  # persons are checked by POST only
    bodies = []
    fresh = held + 1
    for n in range(4_000):
        if n % 2:  # two new subjects
            subjects, fresh = [fresh, fresh + 1], fresh + 2
        else:  # two subjects already held, new records
            subjects = [rng.randint(1, held) for _ in range(2)]
        records = []
        for s in subjects:
            for k, r in enumerate(scale_load.subject_records(s)):
                r["ref"] = f"{r['ref']}-m{n}-{k}"
                records.append(r)
        bodies.append(json.dumps({"records": records}, ensure_ascii=False))
    return {"codes": codes, "bodies": bodies, "positions": held * scale_load.PER_SUBJECT}


def drive(
    port: int, tokens: dict[str, Any], work: dict[str, Any], mix: tuple[float, float],
    threads: int, seconds: float, seed: int, first_body: int,
) -> tuple[list[tuple[str, float, int]], int, float]:  # fmt: skip
    """One driver process: `threads` connections in a closed loop for `seconds`. Returns each
    request's (kind, seconds, status), the errors, and this process's CPU seconds."""
    out: list[tuple[str, float, int]] = []
    errors = [0]
    lock = threading.Lock()
    next_body = [first_body]
    deadline = time.perf_counter() + seconds

    def loop(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[tuple[str, float, int]] = []
        while time.perf_counter() < deadline:
            x = rng.random()
            if x < mix[0]:
                kind, method, body = "check", "GET", None
                path = f"/api/v1/check/{rng.choice(work['codes'])}?domain=construction"
                headers = {"Authorization": f"Bearer {tokens['consumer']}"}
            elif x < mix[0] + mix[1]:
                with lock:
                    i = next_body[0] = next_body[0] + 2  # each process its own bodies
                kind, method, path = "push", "POST", "/api/v1/records"
                body = work["bodies"][i % len(work["bodies"])].encode()
                headers = {"Authorization": f"Bearer {tokens['dept'][i % 4 // 2]}",
                           "Content-Type": "application/json"}  # fmt: skip
            else:
                kind, method, body = "feed", "GET", None
                path = f"/api/v1/feed?after={rng.randrange(work['positions'])}&limit=1000"
                headers = {"Authorization": f"Bearer {tokens['peer']}"}
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                if kind == "push" and status == 200 and json.loads(data)["rejected"]:
                    status = 422
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            mine.append((kind, time.perf_counter() - start, status))
        conn.close()
        with lock:
            out.extend(mine)
            errors[0] += sum(1 for _, _, st in mine if st != 200)

    started = time.process_time()
    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return out, errors[0], time.process_time() - started


def run(port: int, tokens: dict[str, Any], work: dict[str, Any], mix: tuple[float, float],
        args: argparse.Namespace, seconds: float, label: str) -> int:  # fmt: skip
    per = [args.connections // args.processes + (k < args.connections % args.processes)
           for k in range(args.processes)]  # fmt: skip
    ctx = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with ctx.Pool(args.processes) as pool:
        results = pool.starmap(
            drive, [(port, tokens, work, mix, n, seconds, k, k) for k, n in enumerate(per) if n]
        )
    wall = time.perf_counter() - start
    samples = [s for r in results for s in r[0]]
    errors = sum(r[1] for r in results)
    cpu = sum(r[2] for r in results)
    print(f"{label}: {len(samples):,} requests in {wall:.1f} s over {args.connections} "
          f"connections, errors {errors}; driver CPU {cpu:.1f} s "
          f"({cpu / wall:.0%} of one core); load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    groups = {k: [t for kind, t, _ in samples if kind == k] for k in KINDS}
    groups["all"] = [t for _, t, _ in samples]
    for kind, times in groups.items():
        if len(times) > 1:
            q = statistics.quantiles(times, n=100, method="inclusive")
            print(f"  {kind:>5}: {len(times) / wall:8,.1f} req/s  p50={q[49] * 1000:6.1f} ms  "
                  f"p99={q[98] * 1000:7.1f} ms  ({len(times):,} requests)")  # fmt: skip
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--baseline-seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--processes", type=int, default=2, help="driver processes")
    parser.add_argument("--records", type=int, default=100_000, help="held before the run")
    parser.add_argument("--quick", action="store_true", help="10 s, 20,000 records held")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.baseline_seconds, args.records = 10, 5, 20_000
    name = os.environ.get("CREDITHUB_BENCH_DB", "bench_mixed")
    db_url = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    errors = 0
    with tempfile.TemporaryDirectory() as tmp:
        from scale import load

        env = hub_env(Path(tmp) / "instance", db_url)
        start = time.perf_counter()
        load(env, db_url, args.records, processes=2)
        print(f"loaded {args.records:,} realistic records in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)  # fmt: skip
        second = _valid("11150700" + uscc(99_000_001)[8:])  # another department's USCC
        tokens = {
            "consumer": client_token(env, "bidding", "consumer"),
            "dept": [
                client_token(env, "zhujian-2", "department", "--uscc", AUTHORITY),
                client_token(env, "fagai", "department", "--uscc", second),
            ],
            "peer": client_token(env, "province", "peer", "--hub", "province"),
        }
        work = plan(args, args.records // scale_load.PER_SUBJECT)
        server, base = serve(env)
        port = int(base.rsplit(":", 1)[1])
        try:
            run(port, tokens, work, (1.0, 0.0), args, 2, "warm-up (checks)")
            print(f"PostgreSQL, `credithub serve` 2 workers, {args.records:,} records held:")
            errors += run(port, tokens, work, (1.0, 0.0), args, args.baseline_seconds,
                          "baseline: checks alone")  # fmt: skip
            label = "mixed: 90 % checks, 9 % pushes of 10 records, 1 % feed pages"
            errors += run(port, tokens, work, (0.90, 0.09), args, args.seconds, label)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if errors:
        print(f"{errors} error answer(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
