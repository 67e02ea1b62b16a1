"""Sharing speed (issue: Share): N records created at city hub A reach city hub B through
province hub P: three real hubs on loopback (SQLite), A pushes to P, B pulls from P, with
`credithub sync run`. Only the sync runs are timed.

    python bench/federation.py [--records 100000] [--shape realistic|uniform]

Every record version crosses signed (A signs as it serves, P verifies, passes A's signature on,
B verifies): the cost of signing and of verifying one record is measured beside it, on records
as A's feed serves them, against canonical encoding alone (which both include) as the baseline.

The standings P and B store are settled inside the timed runs (a run's batches leave them due,
`credithub.standing.deferred`; the push's last batch and the end of the pull refresh them); the
bench checks that none is left due or missing afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import AUTHORITY, api_records  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from credithub.trust import forms  # noqa: E402
from tests.sync.hubs import Hub  # noqa: E402  (the same real-hub harness the tests use)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--shape", choices=("realistic", "uniform"), default="realistic")
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
            admin_a = a.token("admin", "office")
            start = time.perf_counter()
            for offset in range(0, args.records, 5000):
                a.post(
                    "/api/v1/records",
                    dept,
                    {"records": api_records(min(5000, args.records - offset), offset, args.shape)},
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
            signing_cost(a.get("/api/v1/feed?limit=1000", admin_a)["items"], a)
            print(
                f"federation A→P→B (SQLite, 3 hubs on loopback, {args.shape}): "
                f"records={args.records} "
                f"push A→P {push:.1f} s, pull P→B {pull:.1f} s, total sync {push + pull:.1f} s "
                f"({args.records / (push + pull):,.0f} records/s); records at B: {total_b}"
            )
            print(f"  A: {out_a}\n  B: {out_b}", file=sys.stderr)
            for hub in (p, b):
                assert unsettled(hub) == 0, f"{hub.id}: standings left unsettled"
        finally:
            for hub in (a, p, b):
                hub.stop()


def unsettled(hub: Hub) -> int:
    """Subjects with records whose standing is due or missing at `hub` after the runs."""
    engine = create_engine(hub.env["CREDITHUB_DATABASE_URL"])
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM standings_due) + (SELECT count(DISTINCT subject_id)"
                " FROM records WHERE subject_id NOT IN (SELECT subject_id FROM standings))"
            )
        ).scalar_one()
    engine.dispose()
    return int(count)


def signing_cost(items: list[dict[str, Any]], hub: Hub) -> None:
    """Per record: canonical encoding alone (baseline), signing, verifying."""
    records = [item["record"] for item in items]
    signer = hub.signer()
    keys = {hub.id: {signer.id: signer.public}}
    rounds = 5

    def per_record(fn: Callable[[dict[str, Any]], object]) -> float:
        start = time.perf_counter()
        for _ in range(rounds):
            for record in records:
                fn(record)
        return (time.perf_counter() - start) / (rounds * len(records)) * 1e6

    encode = per_record(forms.signed_form)
    sign = per_record(signer.sign)
    verify = per_record(lambda r: forms.check(r, keys))
    assert all(forms.check(r, keys) is None for r in records)
    print(
        f"per record ({len(records)} as A's feed serves them): signed form alone {encode:.0f} µs "
        f"(baseline), sign {sign:.0f} µs, verify {verify:.0f} µs"
    )


if __name__ == "__main__":
    main()
