"""The published OpenAPI document says what the answers are, errors included: the findings of
the API fuzzing (tests/test_fuzz_api.py), each pinned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.records.samples import ZHUJIAN, penalty, sgs_row

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def bounds(node: Any) -> Iterator[Any]:
    """Every `minimum` and `maximum` of a schema (not a property of that name)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minimum", "maximum") and not isinstance(value, dict):
                yield value
            if key == "properties":
                for field in value.values():
                    yield from bounds(field)
            else:
                yield from bounds(value)
    elif isinstance(node, list):
        for value in node:
            yield from bounds(value)


def test_every_bound_in_the_document_is_a_number(document: dict[str, Any]) -> None:
    found = list(bounds(document))
    assert found
    assert all(isinstance(b, int | float) and not isinstance(b, bool) for b in found), found
    money = document["components"]["schemas"]["RecordOut"]["properties"]["fine_yuan"]
    assert money["type"] == "string"  # answered as exact decimal text: "20000.00"
    assert money["minimum"] == 0


def test_every_operation_names_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(document):
        codes = set(operation["responses"])
        expected = set()
        if operation.get("security") != []:
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if method == "post":
            expected |= {"400", "413"}
        assert expected <= codes, (method, path, codes)
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST", "CONFLICT"):
        response = document["components"]["responses"][name]
        assert response["content"]["application/json"]["schema"] == error
    conflicts = {
        ("post", "/api/v1/records/{record_id}/revoke"),
        ("post", "/api/v1/objections/{objection_id}/decision"),
        ("post", "/api/v1/repairs"),
        ("post", "/api/v1/entities/resolve"),
    }
    for method, path in conflicts:
        assert "409" in document["paths"][path][method]["responses"], path


@pytest.mark.parametrize("path", ["/api/v1/records", "/api/v1/records/sgs"])
def test_a_push_documents_its_422_as_a_refused_batch_or_an_error(
    document: dict[str, Any], path: str
) -> None:
    schema = document["paths"][path]["post"]["responses"]["422"]["content"]["application/json"]
    assert schema["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/IngestResult"},
        {"$ref": "#/components/schemas/Error"},
    ]


def test_an_atomic_refusal_answers_an_ingest_result(
    client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    department = make_token("department", uscc=ZHUJIAN)
    rows = [sgs_row(1), {**sgs_row(2), "CF_XDR_SHXYM": "not a code"}]
    resp = client.post("/api/v1/records/sgs?atomic=true", json={"rows": rows}, headers=department)
    assert resp.status_code == 422
    body = resp.get_json()
    assert set(body) >= {"accepted", "rejected", "results"}
    assert body["accepted"] == 0
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]


def test_a_record_its_regime_never_publishes_answers_publish_until_null(
    client: FlaskClient, make_token: Callable[..., dict[str, str]], document: dict[str, Any]
) -> None:
    department = make_token("department", uscc=ZHUJIAN)
    pushed = client.post(
        "/api/v1/records", json={"records": [penalty(categories=["警告"])]}, headers=department
    )
    record_id = pushed.get_json()["results"][0]["id"]
    record = client.get(f"/api/v1/records/{record_id}", headers=department).get_json()
    assert record["publish_until"] is None
    field = document["components"]["schemas"]["RecordOut"]["properties"]["publish_until"]
    assert field["nullable"] is True
