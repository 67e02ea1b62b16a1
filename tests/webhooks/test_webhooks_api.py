"""Registering webhooks: any client, its own only; the secret once; bad URLs and events refused
with nothing stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.webhooks.models import Webhook

Headers = dict[str, str]
RECEIVER = "http://127.0.0.1:9/hooks"


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Webhook)) or 0


def register(client: FlaskClient, headers: Headers, url: str = RECEIVER) -> dict[str, object]:
    resp = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["check.changed"]}, headers=headers
    )
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, object] = resp.get_json()
    return body


@pytest.mark.parametrize("kind", ["consumer", "department", "peer", "admin"])
def test_any_client_registers_a_webhook_and_sees_its_secret_once(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers], kind: str
) -> None:
    headers = make_token(kind, uscc="11230500001755309F" if kind == "department" else None)
    created = register(client, headers)
    assert created["url"] == RECEIVER
    assert created["events"] == ["check.changed"]
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    listed = client.get("/api/v1/webhooks", headers=headers).get_json()
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert listed["total"] == 1
    one = client.get(f"/api/v1/webhooks/{created['id']}", headers=headers).get_json()
    assert one["deliveries"] == []
    for shown in (listed["items"][0], one):
        assert "secret" not in shown
    with app.app_context():  # kept encrypted, not in clear
        hook = db.session.get(Webhook, created["id"])
        assert hook is not None
        assert secret.encode() not in hook.secret
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "webhook.create" in actions


def test_a_client_sees_and_deletes_only_its_own_and_admin_sees_all(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    mine, theirs, admin = make_token("consumer"), make_token("consumer"), make_token("admin")
    own = register(client, mine)
    other = register(client, theirs)
    listed = client.get("/api/v1/webhooks", headers=mine).get_json()
    assert [w["id"] for w in listed["items"]] == [own["id"]]
    # Another client's webhook is as unknown as a missing one: 404, and it stays.
    assert client.get(f"/api/v1/webhooks/{other['id']}", headers=mine).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{other['id']}", headers=mine).status_code == 404
    assert stored(app) == 2
    everything = client.get("/api/v1/webhooks", headers=admin).get_json()
    assert {w["id"] for w in everything["items"]} == {own["id"], other["id"]}
    assert client.delete(f"/api/v1/webhooks/{own['id']}", headers=mine).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{other['id']}", headers=admin).status_code == 204
    assert stored(app) == 0
    assert client.delete(f"/api/v1/webhooks/{own['id']}", headers=mine).status_code == 404


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("ftp://127.0.0.1:9/hooks", ["check.changed"], "url"),
        ("file:///etc/passwd", ["check.changed"], "url"),
        ("127.0.0.1:9/hooks", ["check.changed"], "url"),
        ("http:///hooks", ["check.changed"], "url"),
        ("http://user:pass@127.0.0.1:9/hooks", ["check.changed"], "url"),
        ("http://127.0.0.1:99999/hooks", ["check.changed"], "url"),
        ("http://localhost/api/v1/webhooks", ["check.changed"], "url"),  # the request's host
        ("http://127.0.0.1:8080/hooks", ["check.changed"], "url"),  # the configured server
        ("http://[::1]:8080/hooks", ["check.changed"], "url"),
        (RECEIVER, ["check.changed", "record.deleted"], "events"),
        (RECEIVER, [], "events"),
    ],
)
def test_bad_urls_and_events_are_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    make_token: Callable[..., Headers],
    url: str,
    events: list[str],
    field: str,
) -> None:
    headers = make_token("consumer")
    resp = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=headers)
    assert resp.status_code == 422, resp.get_json()
    assert field in str(resp.get_json()["errors"])
    assert stored(app) == 0


def test_missing_fields_and_unknown_ones_are_refused(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    headers = make_token("consumer")
    for body in ({"url": RECEIVER}, {"events": ["check.changed"]}, {"url": RECEIVER,
                 "events": ["check.changed"], "secret": "whsec_mine"}):  # fmt: skip
        assert client.post("/api/v1/webhooks", json=body, headers=headers).status_code == 422
    assert stored(app) == 0


def test_no_token_is_401_everywhere(app: Flask, client: FlaskClient) -> None:
    body = {"url": RECEIVER, "events": ["check.changed"]}
    assert client.post("/api/v1/webhooks", json=body).status_code == 401
    assert client.get("/api/v1/webhooks").status_code == 401
    assert client.get("/api/v1/webhooks/x").status_code == 401
    assert client.delete("/api/v1/webhooks/x").status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.post("/api/v1/webhooks", json=body, headers=bad).status_code == 401
    assert stored(app) == 0


def test_the_endpoints_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/webhooks"])
    assert {"get", "delete"} <= set(paths["/api/v1/webhooks/{webhook_id}"])
    created = paths["/api/v1/webhooks"]["post"]["responses"]["201"]
    assert "secret" in str(created) or "WebhookCreated" in str(created)


def test_webhook_settings_are_checked_when_the_hub_starts() -> None:
    from credithub.config import ConfigError, load_settings

    settings = load_settings(environ={"CREDITHUB_WEBHOOKS_RETRY_SECONDS": "5, 60,600"})
    assert settings.webhooks.retry_seconds == [5, 60, 600]
    assert settings.webhooks.watch_days == 90
    for bad in ({"retry_seconds": [5, 0]}, {"retry_seconds": ["soon"]}, {"watch_days": 0}):
        with pytest.raises(ConfigError, match="webhooks"):
            load_settings({"webhooks": bad}, environ={})
