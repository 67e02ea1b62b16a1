"""Forgeries with one city's peer token at the province, on loopback with real hubs: another
city's records cannot be forged, rewritten or revoked, the province keeps answering as the
origin says, and nothing refused reaches anyone. Relays keep working: the province and its
cities with nothing more configured, and the province to the nation once the nation's client
for the province relays for the city."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.records.samples import BEIJIANG, PEER_ZHUJIAN, SHUDAO, ZHUJIAN, penalty, serious_listing
from tests.sync.hubs import Hub, cities_and_province, cities_round, running

B_DEPT = PEER_ZHUJIAN  # city B's department (city A's is ZHUJIAN)
LISTING = serious_listing("B住建黑〔2026〕1号")
REVOKED = {"status": "revoked", "revoked": {"at": "2026-06-10T09:00:00+08:00", "reason": "撤销"}}


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[dict[str, Any]]:
    a, p, b = cities_and_province(tmp_path)
    with running(a, p, b):
        yield {
            "a": a, "p": p, "b": b,
            "a_at_p": a.connectors[0]["token"],  # city A's peer token at the province
            "dept_a": a.token("department", "zhujian-a", "--uscc", ZHUJIAN),
            "dept_b": b.token("department", "zhujian-b", "--uscc", B_DEPT),
            "bidding": {h.id: h.token("consumer", "bidding") for h in (a, p, b)},
            "admin": {h.id: h.token("admin", "office") for h in (a, p, b)},
        }  # fmt: skip


def verdict(hubs: dict[str, Any], hub: Hub, uscc: str = SHUDAO) -> str:
    return hub.verdict(hubs["bidding"][hub.id], uscc)


def held(hubs: dict[str, Any], hub: Hub, uscc: str = SHUDAO) -> list[dict[str, Any]]:
    return hub.records(hubs["admin"][hub.id], uscc)


def push(hub: Hub, token: str, *records: Any, atomic: bool = False) -> requests.Response:
    return requests.post(
        f"{hub.url}/api/v1/records{'?atomic=true' if atomic else ''}",
        json={"records": list(records)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def one_result(hub: Hub, token: str, record: dict[str, Any]) -> dict[str, Any]:
    resp = push(hub, token, record)
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    found: dict[str, Any] = result
    return found


def feed_ids(hubs: dict[str, Any], hub: Hub) -> list[str]:
    items = hub.get("/api/v1/feed?limit=1000", hubs["admin"][hub.id])["items"]
    return [i["record"]["origin"]["id"] for i in items]


def test_city_a_cannot_revoke_forge_or_take_over_city_bs_records_at_the_province(
    hubs: dict[str, Any],
) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    [listed] = b.post("/api/v1/records", hubs["dept_b"], {"records": [LISTING]})["results"]
    cities_round(hubs)
    cities_round(hubs)
    assert [verdict(hubs, h) for h in (a, p, b)] == ["barred"] * 3
    [at_p] = held(hubs, p)
    origin_b = at_p["origin"]
    assert origin_b == {"hub": "city-b", "id": listed["id"], "version": 1}
    token = hubs["a_at_p"]

    # (a) B's record, a version ahead, revoked: refused, and P still bars the bidder.
    of_b = {**LISTING, "authority": {"name": "B市住建局", "uscc": B_DEPT}}
    rewritten = {**of_b, **REVOKED, "origin": {**origin_b, "version": 2}}
    refused = one_result(p, token, rewritten)
    assert refused["status"] == "rejected"
    assert refused["errors"] == {
        "origin.hub": ["city-b is not a hub this peer may send records of (city-a)"]
    }
    # (b) a new record claiming B's origin: refused.
    subject = {"type": "organization", "name": "呼伦贝尔市北疆建筑工程有限公司", "uscc": BEIJIANG}
    claimed = {**of_b, "ref": "B住建黑〔2026〕99号", "subject": subject}
    claimed["origin"] = {"hub": "city-b", "id": "forged-1", "version": 1}
    assert one_result(p, token, claimed)["status"] == "rejected"
    # (c) a record of A's own origin naming B's department, under the key of B's listing and
    # revoked: refused (B's department belongs to city B).
    taken = {**of_b, **REVOKED}
    taken["origin"] = {"hub": "city-a", "id": "a-forged-2", "version": 9}
    refused = one_result(p, token, a.signed(taken))  # signed: city A's hub is taken over
    assert refused["status"] == "rejected"
    assert refused["errors"] == {
        "authority.uscc": [
            f"authority {B_DEPT} belongs to hub city-b: a record of hub city-a may not name it"
        ]
    }
    assert verdict(hubs, p) == "barred"
    [still] = held(hubs, p)
    assert (still["status"], still["origin"]) == ("active", origin_b)
    assert "forged-1" not in feed_ids(hubs, p)
    assert "a-forged-2" not in feed_ids(hubs, p)
    assert verdict(hubs, p, BEIJIANG) == "clear"
    cities_round(hubs)
    cities_round(hubs)
    assert [verdict(hubs, h) for h in (a, p, b)] == ["barred"] * 3
    assert held(hubs, b, BEIJIANG) == []
    assert held(hubs, a, BEIJIANG) == []

    # The province's office sees each refusal: when, by whom, what it claimed, why.
    refusals = p.get("/api/v1/sync/refusals", hubs["admin"]["province"])
    assert refusals["total"] == 3
    assert {r["actor"] for r in refusals["items"]} == {"peer-city-a"}
    assert [(r["origin"]["id"], r["authority"]) for r in refusals["items"]] == [
        ("a-forged-2", B_DEPT),
        ("forged-1", B_DEPT),
        (listed["id"], B_DEPT),
    ]
    assert [r["reason"] for r in refusals["items"]] == [
        "the authority belongs to another hub",
        "a peer sends only records of its own hub or of hubs it relays for",
        "a peer sends only records of its own hub or of hubs it relays for",
    ]
    # Only B can lift it: its revocation reaches A through P.
    b.post(f"/api/v1/records/{listed['id']}/revoke", hubs["dept_b"], {"reason": "复议撤销"})
    cities_round(hubs)
    cities_round(hubs)
    assert [verdict(hubs, h) for h in (a, p, b)] == ["clear"] * 3


def test_versions_cannot_pin_a_record_and_the_origins_corrections_still_apply(
    hubs: dict[str, Any],
) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    fine = penalty("A住建罚〔2026〕5号", uscc=SHUDAO)
    [made] = a.post("/api/v1/records", hubs["dept_a"], {"records": [fine]})["results"]
    cities_round(hubs)
    cities_round(hubs)
    [at_p] = held(hubs, p)
    assert at_p["origin"] == {"hub": "city-a", "id": made["id"], "version": 1}
    token = hubs["a_at_p"]

    def sent(version: int, **extra: Any) -> dict[str, Any]:
        origin = {"hub": "city-a", "id": made["id"], "version": version}
        # Signed with city A's own key: what a taken-over city A could send.
        return a.signed({**fine, "authority": {"uscc": ZHUJIAN}, "origin": origin, **extra})

    # (d) 2^63 is refused naming the field: never a 500, per item and atomic alike.
    for version in (2**63, 2**63 - 1):
        item = one_result(p, token, sent(version, **REVOKED))
        assert item["status"] == "rejected"
        assert list(item["errors"]) == ["origin.version"]
        atomic = push(p, token, sent(version, **REVOKED), atomic=True)
        assert atomic.status_code == 422
        assert "origin.version" in atomic.json()["results"][0]["errors"]
    # The largest version the schema takes is refused by the step rule.
    pinned = one_result(p, token, sent(2**31 - 1, **REVOKED))
    assert pinned["errors"] == {
        "origin.version": [
            "version 2147483647 is more than 1000 above the version held (1): "
            "versions move forward by a bounded step"
        ]
    }
    [still] = held(hubs, p)
    assert (still["status"], still["origin"]["version"]) == ("active", 1)
    # The origin's own corrections still apply, at P and beyond.
    corrected = {**fine, "fine_yuan": "30000.00"}
    [again] = a.post("/api/v1/records", hubs["dept_a"], {"records": [corrected]})["results"]
    assert (again["status"], again["version"]) == ("updated", 2)
    cities_round(hubs)
    cities_round(hubs)
    for hub in (p, b):
        [now] = held(hubs, hub)
        assert (now["origin"]["version"], now["fine_yuan"]) == (2, "30000.00")
    a.post(f"/api/v1/records/{made['id']}/revoke", hubs["dept_a"], {"reason": "复议撤销"})
    cities_round(hubs)
    cities_round(hubs)
    for hub in (p, b):
        [now] = held(hubs, hub)
        assert (now["origin"]["version"], now["status"]) == (3, "revoked")


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[dict[str, Any]]:
    a, p, n = (
        Hub("city-a", tmp_path / "a"),
        Hub("province", tmp_path / "p"),
        Hub("nation", tmp_path / "n"),
    )
    a.connect("province", p)
    p.connect("nation", n)
    with running(a, p, n):
        yield {
            "a": a, "p": p, "n": n,
            "dept_a": a.token("department", "zhujian-a", "--uscc", ZHUJIAN),
            "dept_p": p.token("department", "zhujian-p", "--uscc", B_DEPT),
            "bidding": {h.id: h.token("consumer", "bidding") for h in (a, p, n)},
            "admin": {h.id: h.token("admin", "office") for h in (a, p, n)},
        }  # fmt: skip


def test_a_province_relays_a_citys_records_to_the_nation_only_once_configured_to(
    relay: dict[str, Any],
) -> None:
    a, p, n = relay["a"], relay["p"], relay["n"]
    a.post("/api/v1/records", relay["dept_a"], {"records": [LISTING]})
    own = penalty("P住建罚〔2026〕1号", uscc=BEIJIANG)
    p.post("/api/v1/records", relay["dept_p"], {"records": [own]})
    a.cli("sync", "run")
    p.cli("sync", "run")
    # The nation takes the province's own record, and refuses the city's relayed through it.
    assert [r["origin"]["hub"] for r in held(relay, n, BEIJIANG)] == ["province"]
    assert held(relay, n) == []
    [refused] = n.get("/api/v1/sync/refusals", relay["admin"]["nation"])["items"]
    assert (refused["actor"], refused["origin"]["hub"]) == ("peer-province", "city-a")
    assert "dead letters 1" in p.cli("sync", "status").stdout
    # The nation's office issues the province a token that relays for the city; the province
    # sends its dead letter again.
    token = n.token("peer", "peer-province-relay", "--hub", "province", "--relays-for", "city-a")
    assert "relays for city-a" in n.cli("clients", "list").stdout
    p.connectors[0]["token"] = token
    p.write_config()
    p.cli("sync", "replay", "nation")
    p.cli("sync", "run")
    [at_n] = held(relay, n)
    assert at_n["origin"]["hub"] == "city-a"
    assert verdict(relay, n) == "barred"
