"""Hostile input at the edge: numbers past 64 bits, instants at the ends of the calendar, NUL
characters and deeply nested JSON each get a 4xx in the JSON error shape naming what is wrong,
on every database, never a server error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from tests.records.samples import BEIJIANG, ZHUJIAN, penalty, sgs_csv, sgs_row
from tests.signing import signed

Headers = dict[str, str]
HUGE = 10**30  # past 64 bits


@pytest.fixture
def admin(make_token: Callable[..., Headers]) -> Headers:
    return make_token("admin", name="联合办公室")


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def refused(answer: Any, field: str, codes: tuple[int, ...] = (422,)) -> None:
    """A clear refusal in the JSON error shape whose errors name `field`."""
    assert answer.status_code in codes, (answer.status_code, answer.get_data(as_text=True))
    body = answer.get_json()
    assert set(body) >= {"code", "status", "message"}
    assert body["code"] == answer.status_code
    assert field in str(body.get("errors")), body


def item_refused(answer: Any, field: str) -> None:
    """A batch answered per item, its one item rejected naming `field`."""
    assert answer.status_code == 200, answer.get_data(as_text=True)
    (result,) = answer.get_json()["results"]
    assert result["status"] == "rejected", result
    assert field in str(result["errors"]), result


# --- integers past 64 bits ---------------------------------------------------------------------

PAGED = (
    "/api/v1/entities",
    "/api/v1/records",
    "/api/v1/checks",
    "/api/v1/sync/refusals",
    "/api/v1/sync/quarantine",
    "/api/v1/webhooks",
    "/api/v1/objections",
    "/api/v1/repairs",
)


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_a_page_number_past_64_bits_is_refused(
    client: FlaskClient, admin: Headers, path: str, name: str
) -> None:
    refused(client.get(f"{path}?{name}={HUGE}", headers=admin), name)


def test_a_page_past_the_last_is_empty_not_an_error(client: FlaskClient, admin: Headers) -> None:
    answer = client.get("/api/v1/records?page=1000000", headers=admin)
    assert answer.status_code == 200
    assert answer.get_json()["items"] == []


def test_a_public_page_past_64_bits_is_refused(client: FlaskClient) -> None:
    refused(client.get(f"/api/v1/public/entities?page={HUGE}"), "page")


@pytest.mark.parametrize("after", [HUGE, 2**63, -(2**63) - 1])
def test_a_feed_cursor_past_64_bits_is_refused(
    client: FlaskClient, make_token: Callable[..., Headers], after: int
) -> None:
    peer = make_token("peer", hub="province")
    refused(client.get(f"/api/v1/feed?after={after}", headers=peer), "after")


def test_the_largest_feed_cursor_reads_an_empty_page(
    client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer", hub="province")
    answer = client.get(f"/api/v1/feed?after={2**63 - 1}", headers=peer)
    assert answer.status_code == 200
    assert answer.get_json()["items"] == []


def test_a_quarantine_id_past_64_bits_is_refused(client: FlaskClient, admin: Headers) -> None:
    answer = client.post("/api/v1/sync/quarantine/release", json={"ids": [HUGE]}, headers=admin)
    refused(answer, "ids")


def test_an_origin_version_past_64_bits_is_refused(
    client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    peer = make_token("peer", hub="province")
    record = penalty(origin={"hub": "province", "id": "r-1", "version": HUGE})
    answer = client.post("/api/v1/records", json={"records": [signed(record)]}, headers=peer)
    item_refused(answer, "origin.version")


@pytest.mark.parametrize("amount", ["1" + "0" * 30, "1e30", "99999999999999999.99"])
def test_a_fine_past_what_storage_holds_is_refused(
    client: FlaskClient, zhujian: Headers, amount: str
) -> None:
    answer = client.post("/api/v1/records", json={"records": [penalty(fine_yuan=amount)]},
                         headers=zhujian)  # fmt: skip
    item_refused(answer, "fine_yuan")


def test_a_fine_past_what_storage_holds_is_refused_in_a_sgs_row(
    client: FlaskClient, zhujian: Headers
) -> None:
    rows = [sgs_row(CF_NR_FK="1" + "0" * 30)]
    answer = client.post("/api/v1/records/sgs", data=sgs_csv(rows),
                         headers={**zhujian, "Content-Type": "text/csv"})  # fmt: skip
    item_refused(answer, "CF_NR_FK")


# --- instants and dates at the ends of the calendar --------------------------------------------

EXTREMES = (
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "1899-12-31",
    "3000-01-01",
)


@pytest.mark.parametrize("at", EXTREMES)
def test_a_check_at_the_ends_of_the_calendar_is_refused(
    client: FlaskClient, admin: Headers, at: str
) -> None:
    url = f"/api/v1/check/{BEIJIANG}?domain=construction&at={quote(at)}"
    refused(client.get(url, headers=admin), "at")
    answer = client.post("/api/v1/check", json={"domain": "construction", "at": at,
                         "subjects": [{"uscc": BEIJIANG}]}, headers=admin)  # fmt: skip
    refused(answer, "at")


@pytest.mark.parametrize("at", EXTREMES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_a_checks_list_bound_at_the_ends_of_the_calendar_is_refused(
    client: FlaskClient, admin: Headers, at: str, name: str
) -> None:
    refused(client.get(f"/api/v1/checks?{name}={quote(at)}", headers=admin), name)


def test_a_check_within_the_range_is_answered(client: FlaskClient, admin: Headers) -> None:
    for at in ("1900-01-01", "2999-12-31T23:59:59+08:00"):
        url = f"/api/v1/check/{BEIJIANG}?domain=construction&at={quote(at)}"
        answer = client.get(url, headers=admin)
        assert answer.status_code == 200, answer.get_data(as_text=True)


@pytest.mark.parametrize("field", ["decided_on", "valid_until", "publish_until"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_record_date_at_the_ends_of_the_calendar_is_refused(
    client: FlaskClient, zhujian: Headers, field: str, day: str
) -> None:
    answer = client.post("/api/v1/records", json={"records": [penalty(**{field: day})]},
                         headers=zhujian)  # fmt: skip
    item_refused(answer, field)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_peer_revocation_at_the_ends_of_the_calendar_is_refused(
    client: FlaskClient, make_token: Callable[..., Headers], at: str
) -> None:
    peer = make_token("peer", hub="province")
    record = penalty(
        origin={"hub": "province", "id": "r-1", "version": 1},
        status="revoked",
        revoked={"at": at, "reason": "撤销"},
    )
    answer = client.post("/api/v1/records", json={"records": [signed(record)]}, headers=peer)
    item_refused(answer, "revoked.at")


def sgs_upload(client: FlaskClient, headers: Headers, rows: list[dict[str, str]]) -> Any:
    answer = client.post("/api/v1/records/sgs", data=sgs_csv(rows),
                         headers={**headers, "Content-Type": "text/csv"})  # fmt: skip
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["results"]


@pytest.mark.parametrize("day", ["0001/01/01", "1899/12/31", "9999/12/31", "3000/01/01"])
def test_a_sgs_decision_date_at_the_ends_of_the_calendar_is_refused(
    client: FlaskClient, zhujian: Headers, day: str
) -> None:
    (result,) = sgs_upload(client, zhujian, [sgs_row(CF_JDRQ=day, CF_GSJZQ="2027-01-01")])
    assert result["status"] == "rejected", result
    assert "CF_JDRQ" in result["errors"]
    (result,) = sgs_upload(client, zhujian, [sgs_row(2, CF_GSJZQ=day)])
    assert result["status"] == "rejected", result
    assert "CF_GSJZQ" in result["errors"]


def test_a_sgs_term_past_the_calendar_reads_as_no_end(
    client: FlaskClient, zhujian: Headers
) -> None:
    """9999-12-31 is how many systems write 长期 (no end date) in CF_YXQ."""
    (result,) = sgs_upload(client, zhujian, [sgs_row(CF_YXQ="9999/12/31")])
    assert result["status"] == "created", result
    assert any("长期" in w for w in result["warnings"]), result
    (result,) = sgs_upload(client, zhujian, [sgs_row(2, CF_YXQ="0001-01-01")])
    assert result["status"] == "rejected", result
    assert "CF_YXQ" in result["errors"]


# --- NUL characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entities?q=%E5%8C%97%00",
        "/api/v1/public/entities?q=a%00b",
        "/api/v1/records?subject=%00",
        "/api/v1/sync/quarantine?actor=a%00",
        f"/api/v1/check/{BEIJIANG}?domain=construction%00",
    ],
)
def test_a_nul_in_a_query_parameter_is_refused(
    client: FlaskClient, admin: Headers, url: str
) -> None:
    name = url.split("?")[1].split("=")[0]
    refused(client.get(url, headers=admin), name, (400, 422))


@pytest.mark.parametrize(
    "url", ["/api/v1/records/abc%00def", "/api/v1/entities/9123%00", "/api/v1/public/entities/%00"]
)
def test_a_nul_in_a_path_is_refused(client: FlaskClient, admin: Headers, url: str) -> None:
    refused(client.get(url, headers=admin), "path", (400, 422))


def test_a_nul_in_a_pushed_record_is_refused_naming_the_field(
    client: FlaskClient, zhujian: Headers
) -> None:
    record = penalty(facts="施工现场\u0000未设置")
    record["subject"]["name"] = "北疆\u0000建筑"
    answer = client.post("/api/v1/records", json={"records": [record]}, headers=zhujian)
    refused(answer, "records.0.facts", (400, 422))
    assert "records.0.subject.name" in answer.get_json()["errors"]


def test_a_nul_in_a_key_is_refused(client: FlaskClient, zhujian: Headers) -> None:
    answer = client.post("/api/v1/records", json={"records": [{"a\u0000": 1}]}, headers=zhujian)
    refused(answer, "records.0", (400, 422))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/objections", {"record_id": "x", "applicant": "a", "reason": "\u0000"}, "reason"),
        ("/api/v1/entities/resolve", {"name": "北疆\u0000"}, "name"),
        ("/api/v1/webhooks", {"url": "https://a.example/\u0000", "events": []}, "url"),
    ],
)
def test_a_nul_in_any_body_is_refused(
    client: FlaskClient, admin: Headers, path: str, body: dict[str, Any], field: str
) -> None:
    refused(client.post(path, json=body, headers=admin), field, (400, 422))


def test_a_nul_in_a_csv_cell_rejects_its_row(client: FlaskClient, zhujian: Headers) -> None:
    """(An xlsx file cannot carry NUL: XML 1.0 has no such character.)"""
    rows = [
        sgs_row(1, 其他="x"),
        sgs_row(2, CF_SY="未取得\u0000施工许可证", 其他="y"),
        sgs_row(3, 其他="a\u0000"),
    ]
    results = sgs_upload(client, zhujian, rows)
    assert [r["status"] for r in results] == ["created", "rejected", "rejected"], results
    assert "CF_SY" in results[1]["errors"]
    assert "其他" in results[2]["errors"]


def test_a_nul_in_a_json_sgs_row_rejects_its_row(client: FlaskClient, zhujian: Headers) -> None:
    rows = [sgs_row(1), sgs_row(2, CF_SY="未取得\u0000施工许可证")]
    answer = client.post("/api/v1/records/sgs", json={"rows": rows}, headers=zhujian)
    assert answer.status_code in (200, 422), answer.get_data(as_text=True)
    assert "CF_SY" in answer.get_data(as_text=True)


# --- deeply nested JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 1000, 5000])
def test_json_nested_past_the_depth_limit_is_refused(
    client: FlaskClient, zhujian: Headers, depth: int
) -> None:
    body = '{"records": [' + "[" * depth + "]" * depth + "]}"
    answer = client.post("/api/v1/records", data=body,
                         headers={**zhujian, "Content-Type": "application/json"})  # fmt: skip
    refused(answer, "json", (400, 422))
    assert "deep" in answer.get_json()["message"]


def test_json_nested_within_the_limit_is_read(client: FlaskClient, zhujian: Headers) -> None:
    body = '{"records": [' + "[" * 60 + "]" * 60 + "]}"
    answer = client.post("/api/v1/records", data=body,
                         headers={**zhujian, "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["results"][0]["status"] == "rejected"


def _parsed_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_parsed_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_parsed_depth, value), default=0)
    return 0


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"a": [1, {"b": []}]},
        ["[[[", "]]]", {"{": "}"}],
        ['\\"[', "\\", '"', "", '""', {"\\": ["]\\\\"]}],
        [[[["中文〔2026〕[", {"k": '"]]]"'}]]]],
        {"records": [{"facts": "a\nb\t\\u0000 [x]", "n": [[]]}]},
    ],
)
def test_the_depth_read_from_the_bytes_is_the_parsed_depth(value: Any) -> None:
    import orjson

    from credithub.jsonbody import depth

    for encoded in (orjson.dumps(value), orjson.dumps(value, option=orjson.OPT_INDENT_2)):
        assert depth(encoded) == _parsed_depth(value), encoded


@pytest.mark.parametrize("page", [str(10**30), str(2**63), "9" * 5000, "x"])
def test_the_public_search_page_takes_any_page_number(client: FlaskClient, page: str) -> None:
    answer = client.get(f"/?q=%E5%8C%97%E7%96%86&page={page}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
