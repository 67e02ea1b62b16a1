"""What a hub tells a partner reconciling with it: per origin hub and month of decision, the
count and digest of its records' (origin, id, version); one cell's keys, page by page; and
records fetched by origin key exactly as the feed has them. For peers only; bad input is a 422."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.records.samples import BEIJIANG, PEER_ZHUJIAN, SHUDAO, ZHUJIAN, penalty
from tests.signing import signed_all

Headers = dict[str, str]


def get(client: FlaskClient, path: str, headers: Headers) -> dict[str, Any]:
    resp = client.get(path, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = resp.get_json()
    return body


def push(client: FlaskClient, headers: Headers, *records: dict[str, Any]) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/records", json={"records": signed_all(records)}, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    results: list[dict[str, Any]] = resp.get_json()["results"]
    assert all(r["status"] != "rejected" for r in results), results
    return results


def expected_digest(*lines: str) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in sorted(lines)).encode()).hexdigest()


@pytest.fixture
def held(client: FlaskClient, make_token: Callable[..., Headers]) -> dict[str, Any]:
    """Three records of this hub (two in May, one in April; one corrected to version 2) and two
    of hub city-x in May (x-1 at version 3 decided on the 1st, x-0 on the 20th: by date and id
    they come as x-1, x-0; a digest sorts its lines)."""
    dept = make_token("department", uscc=ZHUJIAN)
    x = make_token("peer", hub="city-x")
    may, april, corrected = push(
        client, dept,
        penalty("R-1"), penalty("R-2", decided_on="2026-04-30"), penalty("R-3", uscc=SHUDAO),
    )  # fmt: skip
    push(client, dept, penalty("R-3", uscc=SHUDAO, content="罚款人民币叁万元"))
    relayed = penalty("X-1", uscc=SHUDAO, authority={"name": "住建局", "uscc": PEER_ZHUJIAN})
    relayed["origin"] = {"hub": "city-x", "id": "x-1", "version": 3}
    later = penalty("X-0", uscc=SHUDAO, authority=relayed["authority"], decided_on="2026-05-20")
    later["origin"] = {"hub": "city-x", "id": "x-0", "version": 1}
    push(client, x, relayed, later)
    return {"may": may["id"], "april": april["id"], "corrected": corrected["id"]}


def test_the_summary_counts_and_digests_each_origin_and_month(
    client: FlaskClient, make_token: Callable[..., Headers], held: dict[str, Any]
) -> None:
    peer = make_token("peer", hub="province")
    body = get(client, "/api/v1/feed/summary", peer)
    assert body["hub"] == "local"
    assert body["cells"] == [
        {"origin": "city-x", "month": "2026-05", "count": 2,
         "digest": expected_digest("city-x|x-1|3", "city-x|x-0|1")},
        {"origin": "local", "month": "2026-04", "count": 1,
         "digest": expected_digest(f"local|{held['april']}|1")},
        {"origin": "local", "month": "2026-05", "count": 2,
         "digest": expected_digest(f"local|{held['may']}|1", f"local|{held['corrected']}|2")},
    ]  # fmt: skip
    only = get(client, "/api/v1/feed/summary?origin=city-x", peer)["cells"]
    assert only == body["cells"][:1]
    assert get(client, "/api/v1/feed/summary?origin=elsewhere", peer)["cells"] == []


def test_a_cell_lists_its_ids_and_versions_page_by_page(
    client: FlaskClient, make_token: Callable[..., Headers], held: dict[str, Any]
) -> None:
    peer = make_token("peer", hub="province")
    path = "/api/v1/feed/summary/cell?origin=local&month=2026-05"
    whole = get(client, path, peer)
    expected = sorted([{"id": held["may"], "version": 1}, {"id": held["corrected"], "version": 2}],
                      key=lambda item: item["id"])  # fmt: skip
    assert whole == {
        "origin": "local", "month": "2026-05", "items": expected,
        "next": expected[-1]["id"], "has_more": False,
    }  # fmt: skip
    first = get(client, path + "&limit=1", peer)
    assert (first["items"], first["has_more"]) == (expected[:1], True)
    second = get(client, path + f"&limit=1&after={first['next']}", peer)
    assert (second["items"], second["has_more"]) == (expected[1:], False)
    april = get(client, "/api/v1/feed/summary/cell?origin=local&month=2026-04", peer)
    assert april["items"] == [{"id": held["april"], "version": 1}]  # 04-30 in, 05-01 not
    empty = get(client, "/api/v1/feed/summary/cell?origin=local&month=2026-06", peer)
    assert (empty["items"], empty["has_more"]) == ([], False)
    december = get(client, "/api/v1/feed/summary/cell?origin=local&month=2025-12", peer)
    assert december["items"] == []


def test_records_are_fetched_by_origin_key_as_the_feed_has_them(
    client: FlaskClient, make_token: Callable[..., Headers], held: dict[str, Any]
) -> None:
    peer = make_token("peer", hub="province")
    feed = get(client, "/api/v1/feed?limit=1000", peer)["items"]
    latest = {}
    for item in feed:  # each record's current version: the last item naming it
        origin = item["record"]["origin"]
        latest[(origin["hub"], origin["id"])] = item
    keys = [
        {"origin": "local", "id": held["corrected"]},
        {"origin": "city-x", "id": "x-1"},
        {"origin": "local", "id": "not-held"},
        {"origin": "city-x", "id": held["may"]},  # an id of another origin
    ]
    resp = client.post("/api/v1/feed/records", json={"records": keys}, headers=peer)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    by_key = [latest[("local", held["corrected"])], latest[("city-x", "x-1")]]
    assert body["items"] == sorted(by_key, key=lambda item: int(item["cursor"]))
    assert body["items"][0]["record"]["origin"]["version"] == 2
    assert body["missing"] == keys[2:]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/feed/summary?origin=a%20b",
        "/api/v1/feed/summary?colour=blue",
        "/api/v1/feed/summary/cell?origin=local",
        "/api/v1/feed/summary/cell?month=2026-05",
        "/api/v1/feed/summary/cell?origin=local&month=2026-13",
        "/api/v1/feed/summary/cell?origin=local&month=2026-5",
        "/api/v1/feed/summary/cell?origin=local&month=0999-01",
        "/api/v1/feed/summary/cell?origin=local&month=2026-05&limit=0",
        "/api/v1/feed/summary/cell?origin=local&month=2026-05&limit=5001",
        "/api/v1/feed/summary/cell?origin=local&month=2026-05&after=" + "x" * 65,
    ],
)
def test_bad_summary_queries_are_422(
    client: FlaskClient, make_token: Callable[..., Headers], path: str
) -> None:
    resp = client.get(path, headers=make_token("peer", hub="province"))
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.get_json()["code"] == 422


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"records": []},
        {"records": [{"origin": "local"}]},
        {"records": [{"origin": "local", "id": ""}]},
        {"records": [{"origin": "local", "id": "a", "version": 1}]},
        {"records": [{"origin": "a b", "id": "a"}]},
        {"records": [{"origin": "local", "id": 7}]},
        {"records": [{"origin": "local", "id": str(n)} for n in range(1001)]},
        {"records": "local|a"},
    ],
)
def test_bad_fetches_are_422(
    client: FlaskClient, make_token: Callable[..., Headers], body: dict[str, Any]
) -> None:
    resp = client.post("/api/v1/feed/records", json=body, headers=make_token("peer", hub="p"))
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.get_json()["code"] == 422


def test_only_peers_and_the_office_read_summaries(
    client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    fetch = {"records": [{"origin": "local", "id": "a"}]}
    for kind, status in (("consumer", 403), ("department", 403), ("admin", 200)):
        headers = make_token(kind, uscc=BEIJIANG if kind == "department" else None)
        assert client.get("/api/v1/feed/summary", headers=headers).status_code == status
        cell = "/api/v1/feed/summary/cell?origin=local&month=2026-05"
        assert client.get(cell, headers=headers).status_code == status
        assert client.post("/api/v1/feed/records", json=fetch, headers=headers).status_code == (
            status
        )
    assert client.get("/api/v1/feed/summary").status_code == 401
    assert client.post("/api/v1/feed/records", json=fetch).status_code == 401


def test_the_openapi_document_describes_them(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    summary = paths["/api/v1/feed/summary"]["get"]
    assert {p["name"] for p in summary["parameters"]} == {"origin"}
    cell = paths["/api/v1/feed/summary/cell"]["get"]
    assert {p["name"] for p in cell["parameters"]} == {"origin", "month", "after", "limit"}
    fetch = paths["/api/v1/feed/records"]["post"]
    assert "Fetch" in str(fetch["requestBody"])
    assert "FetchAnswer" in str(fetch["responses"])
