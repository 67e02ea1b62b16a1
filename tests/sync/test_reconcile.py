"""Reconciliation between partner hubs: drift is found, not assumed away. Three real hubs on
loopback (city A and city B both push to and pull from the province P); records deleted
behind a hub's back with direct SQL, as an operator mistake would.

The hubs are started once for the module (starting three takes most of the time); each test
starts from a round of sync (every hub then agrees) and uses its own subject and months, so
the cells it looks at are its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.records.samples import ZHUJIAN, make_uscc
from tests.sync.hubs import Hub, cities_and_province, cities_round, running


def listing(uscc: str, decided_on: str, ref: str = "呼住建黑〔2026〕9号") -> dict[str, Any]:
    """A listing (ggzy-serious: barred in every trading domain) of `uscc`."""
    return {
        "kind": "blacklist", "ref": ref, "decided_on": decided_on, "list": "ggzy-serious",
        "listed_on": decided_on, "basis": "发改法规〔2018〕457号",
        "subject": {"type": "organization", "name": f"公司{uscc[-6:]}", "uscc": uscc},
    }  # fmt: skip


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("reconcile")
    a, p, b = cities_and_province(tmp_path)
    with running(a, p, b):
        yield {
            "a": a, "p": p, "b": b,
            "dept": a.token("department", "zhujian", "--uscc", ZHUJIAN),
            "bidding": {h.id: h.token("consumer", "bidding") for h in (a, p, b)},
            "admin": {h.id: h.token("admin", "office") for h in (a, p, b)},
        }  # fmt: skip


@pytest.fixture
def agreed(hubs: dict[str, Any]) -> dict[str, Any]:
    cities_round(hubs)
    return hubs


def verdict(hub: Hub, hubs: dict[str, Any], uscc: str) -> str:
    return hub.verdict(hubs["bidding"][hub.id], uscc)


def held(hub: Hub, hubs: dict[str, Any], uscc: str) -> list[tuple[str, str, int, str]]:
    items = hub.records(hubs["admin"][hub.id], uscc)
    return sorted((r["origin"]["hub"], r["origin"]["id"], r["origin"]["version"], r["status"])
                  for r in items)  # fmt: skip


def feed_length(hub: Hub, hubs: dict[str, Any]) -> int:
    return len(hub.get("/api/v1/feed?limit=1000", hubs["admin"][hub.id])["items"])


def delete_behind_its_back(hub: Hub, origin_id: str) -> None:
    """An operator's mistake: the record, its history and its subject's standing deleted with
    plain SQL (`rescore` recomputes only subjects that still have records)."""
    url = hub.env["CREDITHUB_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        [(record_id, subject_id)] = conn.execute(
            text("SELECT id, subject_id FROM records WHERE origin_id = :o"), {"o": origin_id}
        ).all()
        conn.execute(text("DELETE FROM record_changes WHERE record_id = :r"), {"r": record_id})
        conn.execute(text("DELETE FROM records WHERE id = :r"), {"r": record_id})
        conn.execute(text("DELETE FROM standings WHERE subject_id = :s"), {"s": subject_id})
    engine.dispose()


def reconcile(hub: Hub) -> str:
    return hub.cli("sync", "reconcile").stdout


def test_a_record_deleted_behind_a_hubs_back_is_found_and_restored(
    agreed: dict[str, Any],
) -> None:
    hubs = agreed
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    uscc, other = make_uscc("91150700", "10000001"), make_uscc("91150700", "10000002")
    records = [listing(uscc, "2026-06-02"), listing(other, "2026-03-09")]
    [created, _] = a.post("/api/v1/records", hubs["dept"], {"records": records})["results"]
    cities_round(hubs)
    assert verdict(b, hubs, uscc) == "barred"
    before = held(b, hubs, uscc)
    delete_behind_its_back(b, created["id"])
    assert verdict(b, hubs, uscc) == "clear"  # the listing is lost at B
    assert held(b, hubs, uscc) == []

    out = reconcile(b)
    assert "differs: city-a 2026-06: 0 here, 1 there" in out
    assert "differs: city-a 2026-03" not in out  # a cell that agrees is not read key by key
    assert f"missing here: city-a|{created['id']}" in out
    assert "fetched 1" in out
    assert verdict(b, hubs, uscc) == "barred"
    assert held(b, hubs, uscc) == before  # with its origin and version
    # The restored record is not sent back to P (it came from there) nor fetched twice.
    length = feed_length(p, hubs)
    cities_round(hubs)
    assert feed_length(p, hubs) == length
    again = reconcile(b)
    assert "0 differing, fetched 0" in again
    assert "differs" not in again
    assert held(b, hubs, uscc) == before

    # The result shows in GET /api/v1/sync and in `credithub sync status`.
    [status] = b.get("/api/v1/sync", hubs["admin"]["city-b"])["connectors"]
    found = status["reconcile"]
    assert (found["ok"], found["differing"], found["fetched"]) == (True, 0, 0)
    assert found["cells"] >= 2
    line = b.cli("sync", "status").stdout
    assert f"last reconcile {found['at']} ({found['cells']} cells, 0 differing" in line


def test_a_record_the_partner_lost_is_sent_again_by_its_origin(agreed: dict[str, Any]) -> None:
    hubs = agreed
    a, p = hubs["a"], hubs["p"]
    uscc = make_uscc("91150700", "20000001")
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [listing(uscc, "2025-11-20")]})[
        "results"
    ]
    cities_round(hubs)
    delete_behind_its_back(p, created["id"])
    assert verdict(p, hubs, uscc) == "clear"
    out = reconcile(a)
    assert "differs: city-a 2025-11: 1 here, 0 there" in out
    assert f"missing there: city-a|{created['id']}" in out
    assert "resent 1" in out
    assert verdict(p, hubs, uscc) == "barred"
    assert held(p, hubs, uscc) == held(a, hubs, uscc)
    assert "0 differing" in reconcile(a)


def test_nothing_differs_nothing_is_fetched(agreed: dict[str, Any]) -> None:
    hubs = agreed
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    records = [listing(make_uscc("91150700", "30000001"), "2024-01-05"),
               listing(make_uscc("91150700", "30000002"), "2024-02-05")]  # fmt: skip
    a.post("/api/v1/records", hubs["dept"], {"records": records})
    cities_round(hubs)
    lengths = {h.id: feed_length(h, hubs) for h in (a, p, b)}
    for hub in (a, b):
        out = reconcile(hub)
        assert "province: " in out
        assert " cells, 0 differing, fetched 0, missing there 0, newer here 0, resent 0 — ok" in out
    assert {h.id: feed_length(h, hubs) for h in (a, p, b)} == lengths
    summaries = [h.get("/api/v1/feed/summary", hubs["admin"][h.id])["cells"] for h in (a, p, b)]
    assert summaries[0] == summaries[1] == summaries[2]
    mine = [c for c in summaries[0] if c["month"] in ("2024-01", "2024-02")]
    assert [(c["origin"], c["count"]) for c in mine] == [("city-a", 1), ("city-a", 1)]


def test_a_newer_version_at_the_partner_is_fetched_and_applied_once(
    agreed: dict[str, Any],
) -> None:
    hubs = agreed
    a, b = hubs["a"], hubs["b"]
    uscc = make_uscc("91150700", "40000001")
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [listing(uscc, "2025-08-01")]})[
        "results"
    ]
    cities_round(hubs)
    a.post(f"/api/v1/records/{created['id']}/revoke", hubs["dept"], {"reason": "行政复议撤销"})
    a.cli("sync", "run")  # P holds version 2; B has not pulled it
    assert verdict(b, hubs, uscc) == "barred"
    out = reconcile(b)
    assert "differs: city-a 2025-08: 1 here, 1 there" in out
    assert f"older here: city-a|{created['id']}" in out
    assert "fetched 1" in out
    assert verdict(b, hubs, uscc) == "clear"
    assert held(b, hubs, uscc) == [("city-a", created["id"], 2, "revoked")]
    [record] = b.get(f"/api/v1/records?subject={uscc}", hubs["admin"]["city-b"])["items"]
    history = b.get(f"/api/v1/records/{record['id']}", hubs["admin"]["city-b"])["history"]
    assert [(h["version"], h["op"]) for h in history] == [(1, "upsert"), (2, "revoke")]
    # The pull that follows brings the same change: it is not applied a second time.
    pulled = b.cli("sync", "run").stdout
    assert "applied 0" in pulled
    assert len(b.get(f"/api/v1/records/{record['id']}", hubs["admin"]["city-b"])["history"]) == 2


def test_a_newer_version_here_is_left_alone_and_reported(agreed: dict[str, Any]) -> None:
    hubs = agreed
    a, p = hubs["a"], hubs["p"]
    uscc = make_uscc("91150700", "50000001")
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [listing(uscc, "2025-09-01")]})[
        "results"
    ]
    cities_round(hubs)
    a.post(f"/api/v1/records/{created['id']}/revoke", hubs["dept"], {"reason": "行政复议撤销"})
    # Before A pushes the revocation, P's version is older: A keeps its own and reports it,
    # and, being the record's origin, sends it to P again.
    out = reconcile(a)
    assert f"newer here (left alone): city-a|{created['id']}" in out
    assert "fetched 0" in out
    assert "resent 1" in out
    assert held(a, hubs, uscc) == [("city-a", created["id"], 2, "revoked")]
    assert held(p, hubs, uscc) == [("city-a", created["id"], 2, "revoked")]
    assert verdict(p, hubs, uscc) == "clear"
