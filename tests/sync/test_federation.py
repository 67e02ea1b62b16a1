"""一处失信，处处受约: a sanction at one city hub restricts at another through the province hub,
and its revocation lifts it there too. Three real hubs on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from credithub.records.prepare import today_in_china
from tests.records.samples import SHUDAO, ZHUJIAN, serious_listing
from tests.sync.hubs import Hub, cities_and_province, cities_round, running

LISTING = serious_listing()


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[dict[str, Any]]:
    a, p, b = cities_and_province(tmp_path)
    with running(a, p, b):
        yield {
            "a": a, "p": p, "b": b,
            "dept": a.token("department", "zhujian", "--uscc", ZHUJIAN),
            "bidding_b": b.token("consumer", "bidding"),
            "admin": {h.id: h.token("admin", "office") for h in (a, p, b)},
        }  # fmt: skip


def verdict(hub: Hub, token: str) -> str:
    return hub.verdict(token, SHUDAO)


def records_at(hub: Hub, token: str) -> list[dict[str, Any]]:
    return hub.records(token, SHUDAO)


def test_listing_at_a_bars_at_b_and_its_revocation_clears_it(hubs: dict[str, Any]) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    assert verdict(b, hubs["bidding_b"]) == "clear"
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [LISTING]})["results"]
    cities_round(hubs)
    answer = b.get(f"/api/v1/check/{SHUDAO}?domain=construction", hubs["bidding_b"])
    assert answer["verdict"] == "barred"
    [source] = answer["sources"]
    assert source["source"] == "province"
    assert source["last_pull"] is not None
    [at_b] = records_at(b, hubs["admin"]["city-b"])
    assert at_b["origin"] == {"hub": "city-a", "id": created["id"], "version": 1}
    a.post(f"/api/v1/records/{created['id']}/revoke", hubs["dept"], {"reason": "行政复议撤销"})
    cities_round(hubs)
    assert verdict(b, hubs["bidding_b"]) == "clear"
    [revoked] = records_at(b, hubs["admin"]["city-b"])
    assert revoked["status"] == "revoked"
    assert revoked["origin"]["version"] == 2
    # More rounds change nothing: no loop, no duplicate, nothing sent back to its origin.
    before = {
        h.id: len(h.get("/api/v1/feed?limit=1000", hubs["admin"][h.id])["items"]) for h in (a, p, b)
    }
    cities_round(hubs)
    cities_round(hubs)
    after = {
        h.id: len(h.get("/api/v1/feed?limit=1000", hubs["admin"][h.id])["items"]) for h in (a, p, b)
    }
    assert after == before
    for hub in (a, p, b):
        assert len(records_at(hub, hubs["admin"][hub.id])) == 1


def test_an_expiry_at_a_reaches_b_through_p_as_an_expire_change(hubs: dict[str, Any]) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    admin = hubs["admin"]
    today = today_in_china()
    listed, ends = today - timedelta(days=400), today - timedelta(days=1)
    ended = {
        **LISTING, "ref": "呼住建黑〔2025〕3号", "decided_on": listed.isoformat(),
        "listed_on": listed.isoformat(), "expires_on": ends.isoformat(),
    }  # fmt: skip
    [created] = a.post("/api/v1/records", hubs["dept"], {"records": [ended]})["results"]
    cities_round(hubs)
    assert "expired 1 record(s)" in a.cli("expire").stdout
    cities_round(hubs)

    def feed(hub: Hub) -> list[tuple[str, int, str]]:
        items = hub.get("/api/v1/feed?limit=1000", admin[hub.id])["items"]
        return [(i["op"], i["record"]["origin"]["version"], i["record"]["status"]) for i in items]

    passed_on = [("upsert", 1, "active"), ("expire", 2, "expired")]
    assert feed(p) == passed_on  # P serves the expiry to B as an expire item
    assert feed(b) == passed_on
    [at_b] = records_at(b, admin["city-b"])
    assert at_b["origin"] == {"hub": "city-a", "id": created["id"], "version": 2}
    record = b.get(f"/api/v1/records/{at_b['id']}", admin["city-b"])
    assert record["status"] == "expired"
    assert [(h["version"], h["op"]) for h in record["history"]] == [(1, "upsert"), (2, "expire")]
    # As of a day the listing ran, B still sees the bar.
    during = (ends - timedelta(days=1)).isoformat()
    past = b.get(f"/api/v1/check/{SHUDAO}?domain=construction&at={during}", hubs["bidding_b"])
    assert past["verdict"] == "barred"
    # B does not expire what came from A, and nothing comes back: more rounds change nothing.
    assert "expired 0 record(s)" in b.cli("expire").stdout
    cities_round(hubs)
    cities_round(hubs)
    assert feed(a) == feed(p) == feed(b) == passed_on
    [at_a] = records_at(a, admin["city-a"])
    assert (at_a["status"], at_a["version"]) == ("expired", 2)


def test_peer_down_then_back_converges(hubs: dict[str, Any]) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    p.stop()
    a.post("/api/v1/records", hubs["dept"], {"records": [LISTING]})
    failed = a.cli("sync", "run", check=False)
    assert failed.returncode != 0
    status = a.cli("sync", "status").stdout
    assert "pending 1" in status
    assert "last error" in status
    p.start()
    cities_round(hubs)
    assert verdict(b, hubs["bidding_b"]) == "barred"
    assert "pending 0" in a.cli("sync", "status").stdout
    assert len(records_at(b, hubs["admin"]["city-b"])) == 1


def test_sync_status_and_api_show_each_connector(hubs: dict[str, Any]) -> None:
    a = hubs["a"]
    cities_round(hubs)
    body = a.get("/api/v1/sync", hubs["admin"]["city-a"])
    [connector] = body["connectors"]
    assert connector["name"] == "province"
    assert connector["config"]["token"] == "********"
    assert connector["last_success"] is not None
    run = a.post("/api/v1/sync/province/run", hubs["admin"]["city-a"], {})
    assert run["ok"] is True
