"""Sharing speed (issue: Share): N records created at city hub A reach city hub B through
province hub P: three real hubs on loopback (SQLite), A pushes to P, B pulls from P, with
`credithub sync run`. Only the sync runs are timed.

    python bench/federation.py [--records 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import AUTHORITY, api_records  # noqa: E402

from tests.sync.hubs import Hub  # noqa: E402  (the same real-hub harness the tests use)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        a, p, b = Hub("city-a", base / "a"), Hub("province", base / "p"), Hub("city-b", base / "b")
        a.connect("province", p, batch_size=5000)
        b.connect("province", p, page_size=1000)
        for hub in (a, p, b):
            hub.start()
        try:
            dept = a.token("department", "zhujian", "--uscc", AUTHORITY)
            start = time.perf_counter()
            for offset in range(0, args.records, 5000):
                a.post(
                    "/api/v1/records",
                    dept,
                    {"records": api_records(min(5000, args.records - offset), offset, "uniform")},
                )
            print(
                f"created {args.records} records at A in {time.perf_counter() - start:.0f} s "
                "(not counted)",
                file=sys.stderr,
            )
            start = time.perf_counter()
            out_a = a.cli("sync", "run").stdout.strip()
            push = time.perf_counter() - start
            start = time.perf_counter()
            out_b = b.cli("sync", "run").stdout.strip()
            pull = time.perf_counter() - start
            admin = b.token("admin", "office")
            total_b = b.get("/api/v1/records?page_size=1", admin)["total"]
            print(
                f"federation A→P→B (SQLite, 3 hubs on loopback): records={args.records} "
                f"push A→P {push:.1f} s, pull P→B {pull:.1f} s, total sync {push + pull:.1f} s "
                f"({args.records / (push + pull):,.0f} records/s); records at B: {total_b}"
            )
            print(f"  A: {out_a}\n  B: {out_b}", file=sys.stderr)
        finally:
            for hub in (a, p, b):
                hub.stop()


if __name__ == "__main__":
    main()
