"""Crash safety: a hub killed outright (SIGKILL: no handler runs, no transaction in flight
commits) at seeded random points of a pull or a push, then restarted and synced again, ends
exactly as a hub that was never interrupted: the same records at the same origin versions and
states, none lost and none doubled, the same standings, the same feed, and an audit chain that
verifies. Real hubs on loopback, each its own server process and database."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.records.samples import ZHUJIAN, make_uscc, penalty, serious_listing
from tests.sync.hubs import BIN, Hub, running

SEED = 1818
RECORDS = 240  # in pages and batches of PAGE: a run spans a dozen of each
PAGE = 20


def uscc(i: int) -> str:
    return make_uscc("91150700", f"{i + 7000:08d}")


def seed_records(hub: Hub, token: str) -> None:
    """RECORDS records over a third as many subjects (penalties, and listings that bar), then
    a tenth of them corrected and a tenth revoked: the feed carries upserts at versions 1 and
    2 and revocations, and the standings restrictions and points."""
    records = [
        serious_listing(f"黑〔2026〕{i}号", subject={"type": "organization", "name": f"公司{i}",
                        "uscc": uscc(i // 3)})
        if i % 8 == 0 else penalty(f"罚〔2026〕{i}号", uscc=uscc(i // 3))
        for i in range(RECORDS)
    ]  # fmt: skip
    results = hub.post("/api/v1/records", token, {"records": records})["results"]
    assert [r["status"] for r in results] == ["created"] * RECORDS
    corrected = [
        {**records[i], "facts": "复核后更正的事实"} for i in range(1, RECORDS, 10) if i % 8
    ]
    hub.post("/api/v1/records", token, {"records": corrected})
    for i in range(5, RECORDS, 10):
        hub.post(f"/api/v1/records/{results[i]['id']}/revoke", token, {"reason": "行政复议撤销"})


def held(hub: Hub) -> int:
    with hub.engine().connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM records")).scalar_one())


def state(hub: Hub, admin: str) -> dict[str, Any]:
    """What a hub holds, without what is its own (local ids, positions, instants): each record's
    origin, origin version, status, key and version here (how many changes it applied to it);
    each subject's stored standing; the feed it serves."""
    engine = hub.engine()
    with engine.connect() as conn:
        records = conn.execute(
            text(
                "SELECT id, origin_hub, origin_id, origin_version, status, version, kind, ref,"
                " authority_uscc FROM records"
            )
        ).all()
        origin = {r.id: (r.origin_hub, r.origin_id) for r in records}
        standings = conn.execute(
            text(
                "SELECT s.uscc, st.data, st.valid_until, st.computed_at FROM standings st"
                " JOIN subjects s ON s.id = st.subject_id"
            )
        ).all()
        due = conn.execute(text("SELECT count(*) FROM standings_due")).scalar_one()
        dead = conn.execute(text("SELECT count(*) FROM dead_letters")).scalar_one()
    engine.dispose()
    keys = [(r.origin_hub, r.origin_id) for r in records]
    assert len(keys) == len(set(keys)), "a record held twice"
    assert due == 0, "standings left due"
    assert dead == 0, "a change dead-lettered"

    def standing(data: Any) -> Any:
        data = data if isinstance(data, dict) else json.loads(data)
        data = {k: v for k, v in data.items() if k != "at"}
        # Entries that tie (same dates and amounts) follow local ids, which differ between hubs.
        for part in ("restrictions", "explanation"):
            data[part] = sorted(
                repr({**x, "record_id": origin.get(x["record_id"])}) for x in data[part]
            )
        return data

    for row in standings:
        assert row.valid_until is None or row.valid_until != row.computed_at, "a stale standing"
    feed, after = [], "0"
    while True:
        page = hub.get(f"/api/v1/feed?after={after}&limit=1000", admin)
        for item in page["items"]:
            record = {k: v for k, v in item["record"].items() if k not in ("id", "signature")}
            feed.append((item["op"], record))
        if not page["has_more"]:
            break
        after = page["next"]
    return {
        "records": sorted(
            (r.origin_hub, r.origin_id, r.origin_version, r.status, r.kind, r.ref,
             r.authority_uscc, r.version) for r in records  # version: changes applied here
        ),
        "standings": sorted((u, repr(standing(d))) for u, d, _v, _c in standings),
        "feed": feed,
    }  # fmt: skip


def assert_same(crashed: dict[str, Any], clean: dict[str, Any]) -> None:
    """Part by part, naming the first entry that differs."""
    for part in ("records", "standings", "feed"):
        here, there = crashed[part], clean[part]
        assert len(here) == len(there), f"{part}: {len(here)} after the kills, {len(there)} clean"
        for mine, theirs in zip(here, there, strict=True):
            assert mine == theirs, f"{part} differ"


def sync(hub: Hub, connector: str) -> subprocess.Popen[str]:
    """`credithub sync run CONNECTOR` started at `hub` in a process group of its own, not
    waited for."""
    return subprocess.Popen(
        [str(BIN), "sync", "run", connector],
        env=hub.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def living(group: int) -> list[int]:
    """The processes of a process group still running (zombies left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue  # not a process, or one that ended meanwhile
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == group and state != "Z":
            found.append(int(entry.name))
    return found


def outlives(run: subprocess.Popen[str]) -> list[int]:
    """What the killed run started that is still running once it has had time to see its
    parent gone (up to 30 s)."""
    for _ in range(300):
        left = living(run.pid)
        if not left:
            return []
        time.sleep(0.1)
    return left


def sync_until_ok(hub: Hub, connector: str, rounds: int = 5) -> None:
    for _ in range(rounds):
        if hub.cli("sync", "run", connector, check=False).returncode == 0:
            return
    raise AssertionError(hub.cli("sync", "status").stdout)


def kill_when(
    rng: random.Random, run: subprocess.Popen[str], watched: Hub, kill: Callable[[], None]
) -> int:
    """Once `watched` holds a seeded random number of records more than now (within the next
    two pages, and a page short of all of them at most), wait a seeded random moment more and
    `kill`; the records held then."""
    target = min(held(watched) + rng.randint(1, 2 * PAGE), RECORDS - PAGE)
    while held(watched) < target and run.poll() is None:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next page: reading, writing, committing
    assert run.poll() is None, "the run ended before its kill point"
    at = held(watched)
    kill()
    run.wait(timeout=120)
    return at


def kill_process(run: subprocess.Popen[str]) -> Callable[[], None]:
    return lambda: os.kill(run.pid, signal.SIGKILL)


def _admins(*hubs: Hub) -> dict[str, str]:
    return {h.id: h.token("admin", "office") for h in hubs}


@pytest.fixture
def pulling(tmp_path: Path) -> Iterator[tuple[Hub, Hub, Hub]]:
    """Province P with records; city A pulls from it (and will be killed), city C pulls the
    same without interruption."""
    p, a, c = (
        Hub("province", tmp_path / "p"),
        Hub("city-a", tmp_path / "a"),
        Hub("city-c", tmp_path / "c"),
    )
    for city in (a, c):
        city.connect("province", p, page_size=PAGE, batch_size=PAGE, prefetch=True)
    # A checks each page apart (a forked helper) while it writes the one before, so a kill
    # also leaves the helper without its parent; C checks its pages itself.
    a.env["CREDITHUB_SERVER_PREPARE_APART_FROM"] = "1"
    with running(p):
        seed_records(p, p.token("department", "zhujian", "--uscc", ZHUJIAN))
        yield p, a, c


def test_a_pull_killed_at_random_points_ends_as_a_clean_pull(
    pulling: tuple[Hub, Hub, Hub],
) -> None:
    p, a, c = pulling
    rng = random.Random(SEED)
    sync_until_ok(c, "province")
    # The pulling process killed, then the hub it pulls from, then the pulling process again.
    for victim in ("puller", "server", "puller"):
        run = sync(a, "province")
        if victim == "puller":
            at = kill_when(rng, run, a, kill_process(run))
            assert outlives(run) == []  # the helper checking pages apart ends with it
        else:
            at = kill_when(rng, run, a, p.kill)
            p.start()
        # The kill landed while the run was on (`kill_when` asserts it): mid-transfer, or,
        # when the last pages came in within the moment waited, while the run settled.
        assert 0 < at <= RECORDS
    sync_until_ok(a, "province")
    admins = _admins(a, c)
    with running(a, c):
        assert_same(state(a, admins["city-a"]), state(c, admins["city-c"]))
    a.cli("audit", "verify")
    assert held(a) == RECORDS


@pytest.fixture
def pushing(tmp_path: Path) -> Iterator[tuple[Hub, Hub, Hub]]:
    """City A with records pushes them to province P (which will be killed) and, without
    interruption, to province Q."""
    a, p, q = (
        Hub("city-a", tmp_path / "a"),
        Hub("province", tmp_path / "p"),
        Hub("nation", tmp_path / "q"),
    )
    a.connect("province", p, batch_size=PAGE, pull=False)
    a.connect("clean", q, batch_size=PAGE, pull=False)
    with running(a, p, q):
        seed_records(a, a.token("department", "zhujian", "--uscc", ZHUJIAN))
        yield a, p, q


def test_a_push_killed_at_random_points_ends_as_a_clean_push(
    pushing: tuple[Hub, Hub, Hub],
) -> None:
    a, p, q = pushing
    rng = random.Random(SEED + 1)
    sync_until_ok(a, "clean")
    # The receiving server killed, then the pushing process, then the receiving server again.
    for victim in ("server", "pusher", "server"):
        run = sync(a, "province")
        if victim == "server":
            at = kill_when(rng, run, p, p.kill)
            p.start()
        else:
            at = kill_when(rng, run, p, kill_process(run))
        # The kill landed while the run was on (`kill_when` asserts it): mid-transfer, or,
        # when the last pages came in within the moment waited, while the run settled.
        assert 0 < at <= RECORDS
    sync_until_ok(a, "province")
    admins = _admins(p, q)
    assert_same(state(p, admins["province"]), state(q, admins["nation"]))
    for hub in (a, p):
        hub.cli("audit", "verify")
    assert held(p) == RECORDS
    assert "pending 0" in a.cli("sync", "status").stdout
