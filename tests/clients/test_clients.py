"""Clients and tokens: created by the CLI, shown once, stored hashed, scoped by kind, revocable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, select, update

from credithub.clients.models import Client
from credithub.db import db, table_of, utcnow
from tests.signing import signed_all


def token_of(result: Any) -> str:
    return result.output.strip().splitlines()[-1]


def test_cli_create_prints_token_last_and_stores_only_its_hash(
    app: Flask, run_cli: Callable[..., Any]
) -> None:
    result = run_cli(
        "clients",
        "create",
        "--name",
        "zhujian",
        "--kind",
        "department",
        "--uscc",
        "１１２３０５００００１７５５３０９Ｆ",
    )
    assert result.exit_code == 0, result.output
    token = token_of(result)
    assert token.startswith("chub_")
    assert len(token) > 40
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.name == "zhujian"))
        assert client is not None
        assert client.uscc == "11230500001755309F"  # normalised from full-width
        stored = " ".join(str(v) for v in vars(client).values())
        assert token not in stored
    resp = app.test_client().get(
        "/api/v1/entities?q=x", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 200


def test_cli_refuses_bad_input_clearly(run_cli: Callable[..., Any]) -> None:
    bad_uscc = run_cli(
        "clients", "create", "--name", "a", "--kind", "department", "--uscc", "11230500001755309X"
    )
    assert bad_uscc.exit_code != 0
    assert "check" in bad_uscc.output
    no_uscc = run_cli("clients", "create", "--name", "a", "--kind", "department")
    assert no_uscc.exit_code != 0
    assert "USCC" in no_uscc.output
    assert run_cli("clients", "create", "--name", "b", "--kind", "admin").exit_code == 0
    dup = run_cli("clients", "create", "--name", "b", "--kind", "admin")
    assert dup.exit_code != 0
    assert "exists" in dup.output
    assert run_cli("clients", "create", "--name", "c", "--kind", "king").exit_code != 0


def test_scopes_follow_the_kind(app: Flask, make_token: Callable[..., dict]) -> None:
    http = app.test_client()
    allowed = {"admin": 200, "department": 200, "consumer": 200, "peer": 403}
    for kind, status in allowed.items():
        uscc = "11230500001755309F" if kind == "department" else None
        resp = http.get("/api/v1/entities?q=x", headers=make_token(kind, uscc=uscc))
        assert resp.status_code == status, kind


def test_revoke_and_rotate(app: Flask, run_cli: Callable[..., Any]) -> None:
    http = app.test_client()
    first = token_of(run_cli("clients", "create", "--name", "sys", "--kind", "consumer"))
    auth = {"Authorization": f"Bearer {first}"}
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 200
    second = token_of(run_cli("clients", "rotate", "sys"))
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 401
    auth2 = {"Authorization": f"Bearer {second}"}
    assert http.get("/api/v1/entities?q=x", headers=auth2).status_code == 200
    assert run_cli("clients", "revoke", "sys").exit_code == 0
    assert http.get("/api/v1/entities?q=x", headers=auth2).status_code == 401
    listing = run_cli("clients", "list").output
    assert "sys\tconsumer" in listing
    assert "revoked" in listing
    assert second not in listing


def test_client_changes_are_audited(app: Flask, run_cli: Callable[..., Any]) -> None:
    from credithub.audit.models import AuditEntry

    run_cli("clients", "create", "--name", "x", "--kind", "admin")
    run_cli("clients", "revoke", "x")
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["client.create", "client.revoke"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _revoke_elsewhere(app: Flask, name: str) -> None:
    """Revoke as another worker or host would: straight in the database, not in this process."""
    with app.app_context():
        engine = create_engine(db.engine.url)
    with engine.begin() as conn:
        conn.execute(
            update(table_of(Client)).where(Client.name == name).values(revoked_at=utcnow())
        )
    engine.dispose()


def test_a_revocation_elsewhere_takes_effect_within_the_token_cache_time(
    app_factory: Callable[..., Flask], make_token: Callable[..., dict]
) -> None:
    app = app_factory(security={"token_cache_seconds": 5})
    clock = Clock()
    app.extensions["credithub.token_cache"].clock = clock
    http = app.test_client()
    auth = make_token("consumer", name="sys")
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 200
    _revoke_elsewhere(app, "sys")
    clock.now += 4.9  # this worker still trusts what it read under 5 s ago
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 200
    clock.now += 0.1
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 401


def test_without_a_token_cache_a_revocation_elsewhere_takes_effect_at_once(
    app_factory: Callable[..., Flask], make_token: Callable[..., dict]
) -> None:
    app = app_factory(security={"token_cache_seconds": 0})
    http = app.test_client()
    auth = make_token("consumer", name="sys")
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 200
    _revoke_elsewhere(app, "sys")
    assert http.get("/api/v1/entities?q=x", headers=auth).status_code == 401


def test_a_cached_token_keeps_only_its_own_scopes(
    app: Flask, make_token: Callable[..., dict]
) -> None:
    http = app.test_client()
    peer = make_token("peer")
    for _ in range(2):  # the second answer comes from the token cache
        assert http.get("/api/v1/feed", headers=peer).status_code == 200
        resp = http.get("/api/v1/check/91230500MA1B3N1N2M?domain=construction", headers=peer)
        assert resp.status_code == 403
        assert resp.get_json()["message"] == "this client (peer) lacks the scope 'check'"


def test_a_peer_relays_for_the_hubs_it_is_created_with(
    app: Flask, run_cli: Callable[..., Any]
) -> None:
    from tests.records.samples import make_uscc, penalty

    created = run_cli(
        "clients", "create", "--name", "province", "--kind", "peer", "--hub", "province",
        "--relays-for", "city-b", "--relays-for", "city-a",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    headers = {"Authorization": f"Bearer {token_of(created)}"}
    listed = [line for line in run_cli("clients", "list").output.splitlines() if "province" in line]
    assert listed[0].endswith("\thub province\trelays for city-a, city-b")

    def sent(hub: str, n: int) -> dict[str, Any]:
        return penalty(
            f"R-{n}",
            uscc=make_uscc("91150700", f"{n:08d}"),
            authority={"uscc": make_uscc("11150700", f"{n:08d}")},
            origin={"hub": hub, "id": f"{hub}-{n}", "version": 1},
        )

    records = [sent("city-a", 1), sent("city-b", 2), sent("province", 3), sent("city-c", 4)]
    resp = app.test_client().post(
        "/api/v1/records", json={"records": signed_all(records)}, headers=headers
    )
    statuses = [r["status"] for r in resp.get_json()["results"]]
    assert statuses == ["created", "created", "created", "rejected"]


def test_relays_are_checked(run_cli: Callable[..., Any]) -> None:
    def create(*extra: str) -> Any:
        return run_cli("clients", "create", "--name", "p", *extra)

    consumer = create("--kind", "consumer", "--relays-for", "city-a")
    assert consumer.exit_code != 0
    assert "only a peer relays for hubs" in consumer.output
    ours = create("--kind", "peer", "--hub", "province", "--relays-for", "local")
    assert ours.exit_code != 0
    assert "this hub's own id" in ours.output
    its_own = create("--kind", "peer", "--hub", "province", "--relays-for", "province")
    assert its_own.exit_code != 0
    assert "the peer's own hub" in its_own.output
    spaced = create("--kind", "peer", "--hub", "province", "--relays-for", "city a")
    assert spaced.exit_code != 0
    assert "is not a hub id" in spaced.output
