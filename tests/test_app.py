"""The HTTP surface every endpoint shares: error shape, bad input, operations, OpenAPI."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from credithub import migrate
from credithub.db import db

ID_NUMBER = "11010519491231002X"


def assert_error(resp, code: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == code, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) >= {"code", "status", "message"}
    assert body["code"] == code
    assert "Traceback" not in resp.get_data(as_text=True)
    return body


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "schema": "ok"}


def test_readyz_fails_when_schema_is_behind(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        head = migrate.head_revision()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'old'")
        try:
            resp = client.get("/readyz")
        finally:
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert resp.status_code == 503
    assert "init-db" in resp.get_json()["checks"]["schema"]


def test_404_and_405_are_json(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404)
    body = assert_error(client.delete("/healthz"), 405)
    assert body["status"] == "Method Not Allowed"


def test_no_token_401_wrong_scope_403(client: FlaskClient, make_token: Callable[..., dict]) -> None:
    resp = client.get("/api/v1/entities?q=x")
    assert_error(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(
        client.get("/api/v1/entities?q=x", headers={"Authorization": "Bearer chub_nope"}), 401
    )
    assert_error(client.get("/api/v1/entities?q=x", headers={"Authorization": "Basic abc"}), 401)
    peer = make_token("peer")
    body = assert_error(client.get("/api/v1/entities?q=x", headers=peer), 403)
    assert "scope" in body["message"]


def test_auth_comes_before_validation(client: FlaskClient) -> None:
    # A stranger learns nothing about the endpoint's fields.
    assert_error(client.post("/api/v1/entities/resolve", json={"bogus": 1}), 401)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"records": [\xff]}',
        b'{"records": NaN}',
        b"  ",
        b'{"records": [{"kind": "pe',
    ],
    ids=["not-json", "not-utf8", "nan", "blank", "truncated"],
)
@pytest.mark.parametrize("path", ["/api/v1/entities/resolve", "/api/v1/records"])
def test_malformed_json_is_400(
    client: FlaskClient, make_token: Callable[..., dict], path: str, body: bytes
) -> None:
    resp = client.post(
        path, data=body, headers={**make_token(), "Content-Type": "application/json"}
    )
    # `errors` is an object as every error's is (api.md): the messages under their location
    assert assert_error(resp, 400)["errors"] == {"json": ["Invalid JSON body."]}


def test_an_empty_body_is_a_missing_one(
    client: FlaskClient, make_token: Callable[..., dict]
) -> None:
    resp = client.post(
        "/api/v1/records", data=b"", headers={**make_token(), "Content-Type": "application/json"}
    )
    assert assert_error(resp, 422)["errors"] == {"records": ["Missing data for required field."]}


def test_wrong_content_type_is_415(client: FlaskClient, make_token: Callable[..., dict]) -> None:
    resp = client.post(
        "/api/v1/entities/resolve",
        data="type=person",
        headers={**make_token(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = assert_error(resp, 415)
    assert "Content-Type" in body["errors"]


def test_unknown_fields_are_named(client: FlaskClient, make_token: Callable[..., dict]) -> None:
    resp = client.post(
        "/api/v1/entities/resolve",
        headers=make_token(),
        json={"type": "organization", "name": "x", "uscc": "91230500MA1B3N1N2M", "colour": "red"},
    )
    body = assert_error(resp, 422)
    assert "colour" in body["errors"]


def test_unknown_query_parameter_is_named(
    client: FlaskClient, make_token: Callable[..., dict]
) -> None:
    body = assert_error(client.get("/api/v1/entities?q=x&colour=red", headers=make_token()), 422)
    assert "colour" in body["errors"]


def test_oversized_body_is_413(
    app_factory: Callable[..., Flask], make_token: Callable[..., dict]
) -> None:
    app = app_factory(server={"max_body_mb": 1})
    big = json.dumps({"type": "person", "name": "x" * (2 * 1024 * 1024)})
    resp = app.test_client().post(
        "/api/v1/entities/resolve", data=big, headers={"Content-Type": "application/json"}
    )
    assert_error(resp, 413)


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/entities?q={ID_NUMBER}",
        f"/api/v1/entities/{ID_NUMBER}",
        "/api/v1/entities?q=110105194912310" + "02x",
        f"/api/v1/entities?q=%20{ID_NUMBER}",
    ],
)
def test_id_numbers_in_urls_are_refused(
    client: FlaskClient, make_token: Callable[..., dict], url: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = assert_error(client.get(url, headers=make_token()), 400)
    assert "POST" in body["message"]
    assert ID_NUMBER not in json.dumps(body)


def test_unexpected_error_is_500_with_request_id_and_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    logger = logging.getLogger("credithub")
    logger.propagate = True
    try:
        with caplog.at_level(logging.ERROR, logger="credithub"):
            resp = app.test_client().get("/boom", headers={"X-Request-ID": "req-42"})
    finally:
        logger.propagate = False
    body = assert_error(resp, 500)
    assert "req-42" in body["message"]
    assert "secret internals" not in resp.get_data(as_text=True)
    assert resp.headers["X-Request-ID"] == "req-42"
    assert any(r.__dict__.get("request_id") == "req-42" and r.exc_info for r in caplog.records)


def test_failed_request_commits_nothing(app: Flask) -> None:
    from credithub.clients.models import Client

    @app.post("/api/v1/_fail")
    def fail() -> tuple[dict, int]:
        db.session.add(Client(name="ghost", kind="admin", token_hash="x" * 64, token_hint="x"))
        db.session.flush()
        return {"code": 422}, 422

    app.test_client().post("/api/v1/_fail", json={})
    with app.app_context():
        assert db.session.query(Client).filter_by(name="ghost").count() == 0


def test_logs_are_json_and_mask_id_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    from credithub import logs

    logs.configure("INFO", "json")
    logging.getLogger("credithub.test").info(
        "looked up %s", ID_NUMBER, extra={"path": f"/x/{ID_NUMBER}"}
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["msg"] == "looked up 110105********002X"
    assert entry["path"] == "/x/110105********002X"
    assert ID_NUMBER not in line
    logs.configure("WARNING", "json")


def test_openapi_describes_endpoints_and_security(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "credithub"
    assert "/api/v1/entities/{uscc}" in spec["paths"]
    assert "/api/v1/entities/resolve" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]  # every operation, unless it says not
    get = spec["paths"]["/api/v1/entities"]["get"]
    assert "security" not in get
    assert {p["name"] for p in get["parameters"]} >= {"q", "page", "page_size"}
    single = spec["paths"]["/api/v1/check/{uscc}"]["get"]  # its own query reader documents it
    assert {p["name"] for p in single["parameters"]} >= {"domain", "at"}
    assert "CheckResult" in str(single["responses"]["200"])


def test_the_collector_threshold_is_a_setting(app_factory: Callable[..., Flask]) -> None:
    import gc

    from credithub import DEFAULT_COLLECTOR_THRESHOLDS

    try:
        app_factory(server={"collector_threshold": 0})
        assert gc.get_threshold() == DEFAULT_COLLECTOR_THRESHOLDS
        app_factory()
        assert gc.get_threshold() == (50_000, 20, 10)
    finally:
        gc.set_threshold(50_000, 20, 10)


@pytest.mark.parametrize(("threshold", "paused"), [(50_000, True), (0, False)])
def test_bulk_views_pause_the_collector_only_where_it_is_tuned(
    app_factory: Callable[..., Flask], threshold: int, paused: bool
) -> None:
    import gc

    from credithub.extensions import collector_paused

    seen: list[bool] = []
    view = collector_paused(lambda: seen.append(gc.isenabled()))
    try:
        with app_factory(server={"collector_threshold": threshold}).app_context():
            view()
    finally:
        gc.set_threshold(50_000, 20, 10)
    assert seen == [not paused]
    assert gc.isenabled()
