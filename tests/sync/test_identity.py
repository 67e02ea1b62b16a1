"""A hub left on the default id cannot federate by mistake: no peer token for its own id, no
sync with a side that has its id. And a sync run is asked for without a body."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from credithub.clients.service import create_client
from credithub.db import db
from credithub.errors import Invalid
from credithub.sync import service, states
from tests.sync.hubs import Hub


def test_the_cli_refuses_a_peer_token_for_this_hubs_own_id(run_cli: Callable[..., Any]) -> None:
    out = run_cli("clients", "create", "--name", "me", "--kind", "peer", "--hub", "local")
    assert out.exit_code != 0
    assert "this hub's own id" in out.output
    assert "[hub] id" in out.output
    out = run_cli("clients", "create", "--name", "city", "--kind", "peer", "--hub", "city-a")
    assert out.exit_code == 0, out.output


def test_the_service_refuses_it_under_any_configured_id(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(hub={"id": "hlbe"})
    with app.app_context(), db.transaction() as session:
        with pytest.raises(Invalid, match=r"\[hub\] id") as refused:
            create_client(session, "me", "peer", hub="hlbe")
        assert refused.value.errors == {"hub": ["this hub's own id"]}
        create_client(session, "old", "peer", hub="local")  # the default is no one's id here


def test_a_peer_token_for_this_hubs_id_made_before_reads_no_feed(
    app_factory: Callable[..., Flask],
) -> None:
    elsewhere = app_factory(hub={"id": "province"})  # the same database, under another id
    with elsewhere.app_context(), db.transaction() as session:
        _client, token = create_client(session, "old", "peer", hub="local")
    here = app_factory().test_client()
    resp = here.get("/api/v1/feed", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 409
    assert "[hub] id" in resp.get_json()["message"]


def test_a_sync_with_a_hub_of_the_same_id_fails_naming_the_setting(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    other = Hub("local", tmp_path / "other")
    # Issued for a wrong id by mistake: the other hub still calls itself "local".
    token = other.token("peer", "city", "--hub", "city")
    other.start()
    try:
        app = app_factory(connectors=[{
            "name": "province", "type": "hub", "url": other.url, "token": token,
            "backoff_seconds": 0.01}])  # fmt: skip
        with app.app_context():
            [result] = service.run(["province"])
            [status] = states.status(db.session)
    finally:
        other.stop()
    assert not result.ok
    [error] = result.errors
    assert "'local'" in error
    assert "[hub] id" in error
    assert status["last_error"] == error
    assert (result.pushed, result.pulled) == (0, 0)


def test_a_connector_naming_this_hub_as_its_origin_fails_naming_both_settings(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "in").mkdir()
    app = app_factory(hub={"id": "hlbe"}, connectors=[{
        "name": "dept", "type": "filedrop", "outbound": str(tmp_path / "out"),
        "inbound": str(tmp_path / "in"), "hub_id": "hlbe"}])  # fmt: skip
    with app.app_context():
        [result] = service.run(["dept"])
    [error] = result.errors
    assert "'hlbe'" in error
    assert "[hub] id" in error
    assert "this connector's hub_id" in error


@pytest.mark.parametrize(
    "body",
    [
        {},  # no body at all
        {"data": b""},
        {"data": b"", "content_type": "application/json"},
        {"json": {}},
    ],
)
def test_a_sync_run_needs_no_body(
    app_factory: Callable[..., Flask],
    make_token: Callable[..., dict[str, str]],
    tmp_path: Path,
    body: dict[str, Any],
) -> None:
    out, inbox = tmp_path / "out", tmp_path / "in"
    out.mkdir()
    inbox.mkdir()
    dept = {"name": "dept", "type": "filedrop", "outbound": str(out), "inbound": str(inbox)}
    app = app_factory(connectors=[dept])
    admin = make_token("admin")
    resp = app.test_client().post("/api/v1/sync/dept/run", headers=admin, **body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["connector"] == "dept"
    assert resp.get_json()["ok"] is True
