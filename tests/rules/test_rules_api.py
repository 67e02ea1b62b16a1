"""GET /api/v1/rules: the active rule pack, public, and described in the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub.rules.pack import RulePack, load_pack


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    app = app_factory()
    # Until the app factory registers the rules API itself.
    if "rules" not in app.blueprints:
        from credithub.rules.views import blp

        app.extensions["credithub.api"].register_blueprint(blp)
    app.extensions.setdefault("credithub.rule_pack", load_pack("default"))
    return app


def active(app: Flask) -> RulePack:
    pack: RulePack = app.extensions["credithub.rule_pack"]
    return pack


def test_rules_are_public(client: FlaskClient) -> None:
    resp = client.get("/api/v1/rules")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    lists = {x["code"]: x for x in resp.get_json()["lists"]}
    ggzy = lists["ggzy-serious"]
    assert ggzy["title"] == "公共资源交易领域严重失信主体名单"
    assert "发改法规〔2018〕457号" in ggzy["basis"]
    assert ggzy["measures"] == ["ggzy-bar"]


def test_a_bad_token_does_not_matter(client: FlaskClient) -> None:
    resp = client.get("/api/v1/rules", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 200


def test_answer_is_the_whole_active_pack(app: Flask, client: FlaskClient) -> None:
    body = client.get("/api/v1/rules").get_json()
    # The schema drops what it does not declare: the answer must be the pack, key for key.
    assert body == json.loads(json.dumps(active(app).to_public()))
    measures = {m["code"]: m for m in body["measures"]}
    assert measures["ggzy-bar"]["effect"] == "bar"
    assert len(measures["ggzy-bar"]["domains"]) == 7
    assert body["pack"]["digest"] == active(app).digest
    assert [r["id"] for r in body["publication"]] == [
        "ndrc-2019-527",
        "ndrc-order-58",
        "ndrc-order-36",
    ]
    assert body["score"]["levels"][0] == {"level": "A", "min_score": 90.0, "title": "信用优秀"}


def test_only_get_is_allowed(client: FlaskClient) -> None:
    resp = client.post("/api/v1/rules", json={})
    assert resp.status_code == 405
    assert resp.get_json()["code"] == 405


def test_rules_are_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/rules"]["get"]
    assert operation.get("security") == []  # public: no token
    assert "200" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert "RulePack" in schemas
    assert "basis" in schemas["RuleList"]["properties"]
    assert set(schemas["RuleRegime"]["properties"]) >= {"from", "until", "classes", "sectors"}
