"""Signed versions between real hubs on loopback: a relay that rewrites a record in transit is
caught where it arrives (the answer there does not change, the version is quarantined); keys
are pinned with nothing configured, follow a rotation the old key endorses, and a key nobody
endorsed is refused until an admin accepts it, after which what was held is released."""

from __future__ import annotations

import base64
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.records.samples import BEIJIANG, PEER_ZHUJIAN, SHUDAO, ZHUJIAN, penalty, serious_listing
from tests.sync.hubs import FaultProxy, Hub, cities_round, running

LISTING = serious_listing("A住建黑〔2026〕1号")
FINE = penalty("A住建罚〔2026〕7号", uscc=BEIJIANG, fine_yuan="20000.00")


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Cities A and B, province P; B reaches P through a proxy that can rewrite feed items."""
    a, p, b = (Hub(h, tmp_path / h) for h in ("city-a", "province", "city-b"))
    proxy = FaultProxy(p.url)
    a.connect("province", p)
    b.connect("province", p, url=proxy.url)
    proxy.start()
    with running(a, p, b):
        yield {
            "a": a, "p": p, "b": b, "proxy": proxy,
            "dept_a": a.token("department", "zhujian-a", "--uscc", ZHUJIAN),
            "dept_p": p.token("department", "zhujian-p", "--uscc", PEER_ZHUJIAN),
            "bidding": {h.id: h.token("consumer", "bidding") for h in (a, p, b)},
            "admin": {h.id: h.token("admin", "office") for h in (a, p, b)},
        }  # fmt: skip
    proxy.stop()


def verdict(hubs: dict[str, Any], hub: Hub, uscc: str = SHUDAO) -> str:
    return hub.verdict(hubs["bidding"][hub.id], uscc)


def held(hubs: dict[str, Any], hub: Hub, uscc: str) -> list[dict[str, Any]]:
    return hub.records(hubs["admin"][hub.id], uscc)


def quarantined(hubs: dict[str, Any], hub: Hub) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = hub.get("/api/v1/sync/quarantine", hubs["admin"][hub.id])["items"]
    return found


def keys_of(hub: Hub) -> list[list[str]]:
    """`credithub sync keys`: hub, key id, state, source, public key per line."""
    return [line.split("\t") for line in hub.cli("sync", "keys").stdout.splitlines()]


def test_a_relay_rewriting_a_record_in_transit_is_caught_where_it_arrives(
    hubs: dict[str, Any],
) -> None:
    a, p, b, proxy = hubs["a"], hubs["p"], hubs["b"], hubs["proxy"]
    listed = a.post("/api/v1/records", hubs["dept_a"], {"records": [LISTING, FINE]})["results"][0]
    cities_round(hubs)
    cities_round(hubs)
    assert [verdict(hubs, h) for h in (a, p, b)] == ["barred"] * 3
    [fine_at_b] = held(hubs, b, BEIJIANG)
    assert fine_at_b["fine_yuan"] == "20000.00"

    # City A corrects both records; on the way from P to B the relay revokes the listing and
    # lowers the fine.
    def rewrite(record: dict[str, Any]) -> None:
        if record["kind"] == "blacklist":
            record["status"] = "revoked"
            record["revoked"] = {"at": "2026-06-10T09:00:00+08:00", "reason": "撤销"}
        else:
            record["fine_yuan"] = "1.00"

    corrected = [{**LISTING, "note": "更正"}, {**FINE, "note": "更正"}]
    a.post("/api/v1/records", hubs["dept_a"], {"records": corrected})
    hubs["a"].cli("sync", "run")
    proxy.inject("alter", rewrite, path="/api/v1/feed")
    out = b.cli("sync", "run").stdout
    assert "quarantined 2" in out, out

    # B answers as the origin says: still barred, the fine unchanged, both held back.
    assert verdict(hubs, b) == "barred"
    [still] = held(hubs, b, BEIJIANG)
    assert (still["fine_yuan"], still["origin"]["version"]) == ("20000.00", 1)
    found = quarantined(hubs, b)
    assert {(q["origin"]["hub"], q["origin"]["version"]) for q in found} == {("city-a", 2)}
    assert {q["actor"] for q in found} == {"connector:province"}
    assert all("does not verify" in q["reason"] for q in found)
    assert {q["record"].get("status") for q in found} == {"revoked", "active"}
    assert "quarantined 2" in b.cli("sync", "status").stdout
    # What the relay rewrote never verifies: releasing leaves it held.
    assert "released 0, still held 2" in b.cli("sync", "quarantine", "--release").stdout
    # A record version whose signature fails is refused on a push too, and held.
    mine = {**LISTING, "authority": {"name": "A市住建局", "uscc": ZHUJIAN}}
    forged = {**mine, "origin": {"hub": "city-a", "id": listed["id"], "version": 3}}
    forged |= {"status": "revoked", "revoked": {"at": "2026-06-10T09:00:00+08:00", "reason": "x"}}
    forged["signature"] = a.signed({**mine, "origin": forged["origin"]})["signature"]
    answer = p.post("/api/v1/records", hubs["admin"]["province"], {"records": [forged]})
    assert answer["results"][0]["status"] == "rejected", answer
    assert answer["results"][0]["quarantined"] is True
    assert verdict(hubs, p) == "barred"


def replace_signing_key(hub: Hub) -> str:
    """Give `hub` a new signing key nobody endorsed (its operator lost the old one); its id."""
    path = hub.folder / "secrets.toml"
    with open(path, "rb") as fh:
        stored = tomllib.load(fh)
    stored["signing_key"] = base64.b64encode(os.urandom(32)).decode()
    path.write_text("".join(f'{k} = "{v}"\n' for k, v in stored.items()), encoding="utf-8")
    return hub.signer().id


def test_keys_are_pinned_on_first_contact_follow_an_endorsed_rotation_and_a_new_key_waits(
    hubs: dict[str, Any],
) -> None:
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    a.post("/api/v1/records", hubs["dept_a"], {"records": [LISTING]})
    cities_round(hubs)
    cities_round(hubs)
    assert verdict(hubs, b) == "barred"
    # Nothing configured: B pinned P's key at its first sync and A's from P's register; P
    # pinned A's and B's at their first push.
    at_b = {(k[0], k[2]): k[3] for k in keys_of(b)}
    assert at_b[("province", "pinned")] == "first sync (province)"
    assert at_b[("city-a", "pinned")] == "register of province"
    at_p = {(k[0], k[2]): k[3] for k in keys_of(p)}
    assert at_p[("city-a", "pinned")] == "first push by client peer-city-a"
    assert "keys:" in b.cli("sync", "status").stdout
    hub_key = p.get("/api/v1/hub", hubs["admin"]["province"])["key"]
    assert hub_key["algorithm"] == "ed25519"

    # P rotates its key: its old key endorses the new one, so A and B take it by themselves;
    # A's listing, signed by A and relayed by P, still verifies, and so do P's own records.
    out = p.cli("hub", "rotate-key").stdout
    new_p = re.search(r"new signing key ([0-9a-f]{16})", out)
    assert new_p is not None
    p.stop()
    p.start()
    own = penalty("P住建罚〔2026〕1号", uscc=BEIJIANG)
    p.post("/api/v1/records", hubs["dept_p"], {"records": [own]})
    cities_round(hubs)
    assert any(k[0] == "province" and k[1] == new_p[1] and k[2] == "pinned" for k in keys_of(b))
    assert [r["origin"]["hub"] for r in held(hubs, b, BEIJIANG)] == ["province"]

    # A's operator replaces A's key without the old one: P refuses A's push until P's admin
    # accepts the key; B holds A's next change back until B's admin accepts it too.
    new_a = replace_signing_key(a)
    a.stop()
    a.start()
    a.post("/api/v1/records", hubs["dept_a"], {"records": [{**LISTING, "note": "更正"}]})
    refused = a.cli("sync", "run", check=False)
    assert refused.returncode == 1
    assert f"presents key {new_a}" in refused.stdout
    assert ["city-a", new_a, "pending"] in [k[:3] for k in keys_of(p)]
    assert p.cli("sync", "keys", "accept", "city-a", new_a).returncode == 0
    cities_round(hubs)
    cities_round(hubs)
    assert ["city-a", new_a, "pending"] in [k[:3] for k in keys_of(b)]
    [held_back] = quarantined(hubs, b)
    assert f"key {new_a}" in held_back["reason"]
    assert held_back["record"]["note"] == "更正"
    b.cli("sync", "keys", "accept", "city-a", new_a)
    assert "released 1" in b.cli("sync", "quarantine", "--release").stdout
    assert quarantined(hubs, b) == []
    [now] = held(hubs, b, SHUDAO)
    assert (now["origin"]["version"], now["note"]) == (2, "更正")


def test_a_reconciliation_before_any_sync_pins_the_keys_it_needs(hubs: dict[str, Any]) -> None:
    a, b = hubs["a"], hubs["b"]
    a.post("/api/v1/records", hubs["dept_a"], {"records": [LISTING]})
    a.cli("sync", "run")
    # B has never synced: reconciling with P pins P's key and, from P's register, A's, so
    # A's record fetched through P verifies and is applied, not held back.
    b.cli("sync", "reconcile")
    assert verdict(hubs, b) == "barred"
    assert quarantined(hubs, b) == []
    assert {k[0] for k in keys_of(b) if k[2] == "pinned"} == {"province", "city-a"}
