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

The CPU each run cost is printed beside its time (Linux: from /proc): the command's (A's for
the push, B's for the pull, with the helper it forked) and each hub server's (with its
workers and helpers). Three hubs share the machine, so the time follows the CPU summed over
them, and the CPU a record costs moves less with the host's speed than the time does.
"""

from __future__ import annotations

import argparse
import os
import resource
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
            servers = {hub.id: hub for hub in (a, p, b)}
            before = cpu(servers)
            start = time.perf_counter()
            out_a = a.cli("sync", "run").stdout.strip()
            push = time.perf_counter() - start
            pushed = cpu(servers)
            start = time.perf_counter()
            out_b = b.cli("sync", "run").stdout.strip()
            pull = time.perf_counter() - start
            pulled = cpu(servers)
            admin = b.token("admin", "office")
            total_b = b.get("/api/v1/records?page_size=1", admin)["total"]
            signing_cost(a.get("/api/v1/feed?limit=1000", admin_a)["items"], a)
            print(
                f"federation A→P→B (SQLite, 3 hubs on loopback, {args.shape}): "
                f"records={args.records} "
                f"push A→P {push:.1f} s, pull P→B {pull:.1f} s, total sync {push + pull:.1f} s "
                f"({args.records / (push + pull):,.0f} records/s); records at B: {total_b}"
            )
            print(cpu_line("push (sync run at A)", before, pushed, args.records))
            print(cpu_line("pull (sync run at B)", pushed, pulled, args.records))
            print(f"  A: {out_a}\n  B: {out_b}", file=sys.stderr)
            for hub in (p, b):
                assert unsettled(hub) == 0, f"{hub.id}: standings left unsettled"
        finally:
            for hub in (a, p, b):
                hub.stop()


def cpu(servers: dict[str, Hub]) -> dict[str, float]:
    """CPU seconds so far: each hub server's process tree, and the commands run and waited for."""
    used = {
        f"hub {name}": _tree_cpu(hub.process.pid) for name, hub in servers.items() if hub.process
    }
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used | {"the command": children.ru_utime + children.ru_stime}


def _tree_cpu(root: int) -> float:
    """User and system CPU of a process and its descendants, those waited for included."""
    ticks, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    pending.extend(int(child) for child in fh.read().split())
        except FileNotFoundError:  # it ended meanwhile
            continue
        ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_line(run: str, before: dict[str, float], after: dict[str, float], records: int) -> str:
    spent = {name: after[name] - before[name] for name in before}
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spent.items())
    per_record = sum(spent.values()) / records * 1e6
    return f"  CPU of the {run}: {parts}; {per_record:,.0f} µs a record in all"


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
