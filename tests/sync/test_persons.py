"""Persons across hubs without their ID numbers travelling. Three real hubs on loopback, all
with the same `federation.matching_key`, city A and city B syncing with the province P through
proxies that keep every byte that passes: a person penalised at A is found by an ID-number
check at B after one round, while nothing between the hubs (feed pages read as a peer at A and
at P, pushes, pulls) nor B's database holds the number in clear. The same person pushed at P
by a department with the number is the same subject there and at B."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, inspect, select, table, text

from tests.records.samples import (
    BEIJIANG,
    CAIZHENG,
    PERSON_ID,
    ZHUJIAN,
    penalty,
    person_subject,
)
from tests.sync import hubs as hubs_module
from tests.sync.hubs import FaultProxy, Hub, cities_and_province, cities_round, running

MASKED = "110105********002X"
LISTING = {
    "kind": "blacklist", "ref": "呼住建黑〔2026〕21号", "decided_on": "2026-06-02",
    "list": "ggzy-serious", "listed_on": "2026-06-02", "basis": "发改法规〔2018〕457号",
    "subject": person_subject(),
}  # fmt: skip
REPRESENTED = penalty(
    "呼住建罚〔2026〕22号",
    subject={
        "type": "organization", "name": "北疆", "uscc": BEIJIANG,
        "legal_rep": {"name": "张建国", "id_type": "id_card", "id_number": PERSON_ID},
    },
)  # fmt: skip


@pytest.fixture
def traffic(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every request body and answer the proxies pass between the hubs."""
    seen: list[bytes] = []
    forward = requests.request

    def recorded(method: str, url: str, **kwargs: Any) -> requests.Response:
        seen.append(kwargs.get("data") or b"")
        response = forward(method, url, **kwargs)
        seen.append(response.content)
        return response

    monkeypatch.setattr(hubs_module.requests, "request", recorded)
    return seen


@pytest.fixture
def federation(tmp_path: Path, traffic: list[bytes]) -> Iterator[dict[str, Any]]:
    key = os.urandom(32).hex()
    a, p, b = cities_and_province(tmp_path, connected=False)
    proxies = []
    for hub in (a, p, b):
        hub.env["CREDITHUB_FEDERATION_MATCHING_KEY"] = key  # the same at every hub
    for city in (a, b):
        proxy = FaultProxy(p.url).start()
        proxies.append(proxy)
        city.connect("province", p, url=proxy.url)
    try:
        with running(a, p, b):
            yield {
                "a": a, "p": p, "b": b,
                "dept_a": a.token("department", "zhujian-a", "--uscc", ZHUJIAN),
                # A department of the province: an authority belongs to one hub.
                "dept_p": p.token("department", "caizheng-p", "--uscc", CAIZHENG),
                "bidding_b": b.token("consumer", "bidding"),
                "bidding_p": p.token("consumer", "bidding"),
                "admin": {h.id: h.token("admin", "office") for h in (a, p, b)},
                "peer_of_a": a.token("peer", "reader", "--hub", "reader-x"),
                "peer_of_p": p.token("peer", "reader", "--hub", "reader-y"),
            }  # fmt: skip
    finally:
        for proxy in proxies:
            proxy.stop()


def check_person(hub: Hub, token: str) -> dict[str, Any]:
    body = {"domain": "construction", "subjects": [{"id_type": "身份证", "id_number": PERSON_ID}]}
    [answer] = hub.post("/api/v1/check", token, body)["results"]
    return answer


def feed_bytes(hub: Hub, token: str) -> bytes:
    resp = requests.get(
        f"{hub.url}/api/v1/feed?after=0&limit=1000",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    return resp.content


def database_text(hub: Hub) -> str:
    """Every value of every table of the hub's database, as text."""
    url = hub.env["CREDITHUB_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return "\n".join(
                repr(tuple(row))
                for name in names
                for row in conn.execute(select(text("*")).select_from(table(name)))
            )
    finally:
        engine.dispose()


def person_subject_ids(hub: Hub, token: str) -> set[str]:
    items = hub.get("/api/v1/records?page_size=500", token)["items"]
    ids = {r["subject"]["id"] for r in items if r["subject"]["type"] == "person"}
    return ids


def test_a_person_penalised_at_a_is_found_at_b_without_the_number_travelling(
    federation: dict[str, Any], traffic: list[bytes]
) -> None:
    hubs = federation
    a, p, b = hubs["a"], hubs["p"], hubs["b"]
    assert check_person(b, hubs["bidding_b"])["known"] is False
    a.post("/api/v1/records", hubs["dept_a"], {"records": [LISTING, REPRESENTED]})
    cities_round(hubs)

    answer = check_person(b, hubs["bidding_b"])
    assert answer["known"] is True
    assert answer["verdict"] == "barred"
    assert answer["subject"]["id_number"] == MASKED
    # Nothing between the hubs holds the number: neither what A and P serve a peer on their
    # feeds, nor any push or pull through the proxies, nor what B stored.
    number = PERSON_ID.encode()
    for hub, token in ((a, hubs["peer_of_a"]), (p, hubs["peer_of_p"])):
        page = feed_bytes(hub, token)
        assert number not in page
        assert MASKED.encode() in page  # the person is on the page, masked
    assert len(traffic) > 4
    assert any(MASKED.encode() in body for body in traffic)
    assert not [body for body in traffic if number in body]
    assert PERSON_ID not in database_text(b)
    # B holds the person once, as the subject of both A's records (listed, and representing).
    [at_b] = person_subject_ids(b, hubs["admin"]["city-b"])
    # and the representative A named by number is that person at B: the listing reaches him there.
    org = b.get(f"/api/v1/check/{BEIJIANG}?domain=construction", hubs["bidding_b"])
    [rep] = org["related"]
    assert (rep["role"], rep["id_number"]) == ("legal_rep", MASKED)
    assert rep["restrictions"][0]["measure"] == "ggzy-bar"

    # A department at P sends the same person with the number: one subject at P, and B, which
    # gets P's record too, still holds one person for all of them.
    own = penalty("呼住建罚〔2026〕23号", subject=person_subject(), fine_yuan="5000")
    answer = p.post("/api/v1/records", hubs["dept_p"], {"records": [own]})
    assert answer["accepted"] == 1, answer
    assert len(person_subject_ids(p, hubs["admin"]["province"])) == 1
    cities_round(hubs)
    assert person_subject_ids(b, hubs["admin"]["city-b"]) == {at_b}
    refs = {
        r["ref"] for r in b.get("/api/v1/records?page_size=500", hubs["admin"]["city-b"])["items"]
    }
    assert own["ref"] in refs
    assert not [body for body in traffic if number in body]
    assert PERSON_ID not in database_text(b)
