"""Binding of peers, authorities and versions: a peer token cannot forge, rewrite or revoke
another hub's records. Each refusal is answered per item, audited, listed to the joint office,
and never written (so never offered on the feed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from credithub.audit.models import AuditEntry
from credithub.db import db
from credithub.records.models import AuthorityOrigin, Record
from tests.conftest import PG_URL
from tests.records.samples import CAIZHENG, PEER_ZHUJIAN, ZHUJIAN, make_uscc, penalty
from tests.signing import signed_all

Headers = dict[str, str]
CITY_A, CITY_B = "city-a", "city-b"
A_DEPT = PEER_ZHUJIAN  # a department of city A
B_DEPT = CAIZHENG  # a department of city B


def from_hub(hub: str, n: int, authority: str, version: int = 1, **extra: Any) -> dict[str, Any]:
    """A record made at `hub` (its n-th), decided by `authority`."""
    return penalty(
        f"{hub}-{n}",
        uscc=make_uscc("91150700", f"{n:08d}"),
        authority={"name": f"{hub} 住建局", "uscc": authority},
        origin={"hub": hub, "id": f"{hub}-id-{n}", "version": version},
        **extra,
    )


def push(client: FlaskClient, headers: Headers, *records: Any, atomic: bool = False) -> Any:
    url = "/api/v1/records" + ("?atomic=true" if atomic else "")
    return client.post(url, json={"records": signed_all(records)}, headers=headers)


def results(client: FlaskClient, headers: Headers, *records: Any) -> list[dict[str, Any]]:
    resp = push(client, headers, *records)
    assert resp.status_code == 200, resp.get_json()
    found: list[dict[str, Any]] = resp.get_json()["results"]
    return found


def held(app: Flask) -> set[tuple[str, str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Record.origin_hub, Record.origin_id, Record.origin_version)
        )
        return {(h, i, v) for h, i, v in rows}


def refusals(app: Flask) -> list[dict[str, Any]]:
    import orjson

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.refused").order_by(AuditEntry.seq)
        ).all()
        return [{"actor": e.actor, **orjson.loads(e.detail)} for e in entries]


def feed_origins(client: FlaskClient, headers: Headers) -> list[str]:
    items = client.get("/api/v1/feed?limit=1000", headers=headers).get_json()["items"]
    return [i["record"]["origin"]["id"] for i in items]


@pytest.fixture
def peer_a(make_token: Callable[..., Headers]) -> Headers:
    return make_token("peer", name="peer-city-a", hub=CITY_A)


# --- 1. A peer sends only its own hub's records, or those of hubs it relays for ------------


def test_a_peer_sends_only_records_of_its_own_hub(
    app: Flask, client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    own, forged = from_hub(CITY_A, 1, A_DEPT), from_hub(CITY_B, 2, B_DEPT)
    created, refused = results(client, peer_a, own, forged)
    assert created["status"] == "created"
    assert refused["status"] == "rejected"
    assert refused["errors"] == {
        "origin.hub": ["city-b is not a hub this peer may send records of (city-a)"]
    }
    assert held(app) == {(CITY_A, "city-a-id-1", 1)}
    [audited] = refusals(app)
    assert audited["actor"] == "peer-city-a"
    assert audited["reason"] == "a peer sends only records of its own hub or of hubs it relays for"
    assert audited["origin"] == {"hub": CITY_B, "id": "city-b-id-2", "version": 1}
    assert audited["authority"] == B_DEPT
    # Never written, so never offered to the other peers.
    other = make_token("peer", hub="nation")
    assert feed_origins(client, other) == ["city-a-id-1"]


def test_only_the_sending_department_is_warned_that_the_national_exchange_cannot_take_a_penalty(
    client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    # A penalty without facts and basis: taken, but its 双公示 row would be refused.
    short = from_hub(CITY_A, 1, A_DEPT)
    del short["facts"], short["basis"]
    [relayed] = results(client, peer_a, short)
    assert relayed["status"] == "created"
    assert "warnings" not in relayed  # city A's hub warned its department; nothing to do here
    own = {k: v for k, v in short.items() if k not in ("origin", "authority")}
    dept = make_token("department", uscc=ZHUJIAN)
    [decided] = client.post(
        "/api/v1/records", json={"records": [own | {"ref": "own-1"}]}, headers=dept
    ).get_json()["results"]
    assert decided["warnings"] == [
        "cannot be exchanged nationally: its 双公示 row needs facts (CF_SY), basis (CF_YJ)"
    ]


def test_a_peer_configured_to_relay_for_a_hub_sends_its_records(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    province = make_token("peer", name="province", hub="province", relays_for=(CITY_A,))
    sent = results(
        client,
        province,
        from_hub(CITY_A, 1, A_DEPT),
        from_hub("province", 2, ZHUJIAN),
        from_hub(CITY_B, 3, B_DEPT),
    )
    assert [r["status"] for r in sent] == ["created", "created", "rejected"]
    assert "(city-a, province)" in sent[2]["errors"]["origin.hub"][0]
    assert held(app) == {(CITY_A, "city-a-id-1", 1), ("province", "province-id-2", 1)}


def test_a_refused_item_of_an_atomic_push_is_audited_though_nothing_is_written(
    app: Flask, client: FlaskClient, peer_a: Headers
) -> None:
    resp = push(
        client, peer_a, from_hub(CITY_A, 1, A_DEPT), from_hub(CITY_B, 2, B_DEPT), atomic=True
    )
    assert resp.status_code == 422
    assert held(app) == set()
    assert [r["origin"]["hub"] for r in refusals(app)] == [CITY_B]


# --- 2. An authority belongs to the first origin hub seen for it ---------------------------


def bound(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(
            select(AuthorityOrigin.authority_uscc, AuthorityOrigin.origin_hub)
        )
        return dict((a, h) for a, h in rows)


def test_the_first_origin_seen_binds_an_authority_and_another_origin_naming_it_is_refused(
    app: Flask, client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    [mine] = results(client, dept, penalty("HERE-1"))
    assert mine["status"] == "created"
    [first] = results(client, peer_a, from_hub(CITY_A, 1, A_DEPT))
    assert first["status"] == "created"
    assert bound(app) == {ZHUJIAN: "local", A_DEPT: CITY_A}
    peer_b = make_token("peer", name="peer-city-b", hub=CITY_B)
    naming_a, naming_ours = results(
        client, peer_b, from_hub(CITY_B, 2, A_DEPT), from_hub(CITY_B, 3, ZHUJIAN)
    )
    assert naming_a["errors"] == {
        "authority.uscc": [
            f"authority {A_DEPT} belongs to hub city-a: a record of hub city-b may not name it"
        ]
    }
    assert naming_ours["status"] == "rejected"
    assert "belongs to hub local" in naming_ours["errors"]["authority.uscc"][0]
    # And a record made here may not name a peer's authority either (the joint office's).
    admin = make_token("admin", name="office")
    [by_office] = results(client, admin, penalty("HERE-2", authority={"uscc": A_DEPT}))
    assert by_office["status"] == "rejected"
    assert "belongs to hub city-a" in by_office["errors"]["authority.uscc"][0]
    assert len(held(app)) == 2
    assert [(r["actor"], r["authority"]) for r in refusals(app)] == [
        ("peer-city-b", A_DEPT),
        ("peer-city-b", ZHUJIAN),
        ("office", A_DEPT),
    ]
    # A refused record creates no subject.
    with app.app_context():
        from credithub.entities.models import Subject

        assert db.session.scalar(select(func.count()).select_from(Subject)) == 2


def test_within_one_batch_the_first_record_written_binds_the_authority(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    relay = make_token("peer", name="province", hub="province", relays_for=(CITY_A, CITY_B))
    first, second = results(client, relay, from_hub(CITY_A, 1, A_DEPT), from_hub(CITY_B, 2, A_DEPT))
    assert first["status"] == "created"
    assert second["status"] == "rejected"
    assert bound(app) == {A_DEPT: CITY_A}


@contextmanager
def statements_on(app: Flask, table: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if table in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_batch_reads_its_bindings_in_one_query_and_binds_in_one_statement(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    relay = make_token("peer", name="province", hub="province", relays_for=(CITY_A, CITY_B))
    authorities = [make_uscc("11150700", f"{k:08d}") for k in range(20)]
    records = [from_hub(CITY_A, n, authorities[n % 20]) for n in range(200)]
    with statements_on(app, "authority_origins") as seen:
        sent = results(client, relay, *records)
    assert all(r["status"] == "created" for r in sent)
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    writes = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
    # One read for the batch, one insert of its 20 bindings (and the read that checks them).
    assert len(writes) == 1
    assert len(reads) == 2
    with statements_on(app, "authority_origins") as seen:
        again = results(
            client, relay, *[from_hub(CITY_A, n, authorities[n % 20], 2) for n in range(200)]
        )
    assert all(r["status"] == "updated" for r in again)
    assert len(seen) == 1  # bound already: one read, nothing to bind


# --- 3. Versions move forward by a bounded step --------------------------------------------


@pytest.mark.parametrize("version", [2**63, 2**63 - 1, 2**31, 2**64, 10**30, 0, -1])
def test_a_version_out_of_range_is_rejected_naming_the_field(
    app: Flask, client: FlaskClient, peer_a: Headers, version: int
) -> None:
    [item] = results(client, peer_a, from_hub(CITY_A, 1, A_DEPT, version))
    assert item["status"] == "rejected"
    assert item["errors"] == {
        "origin.version": [
            "Must be greater than or equal to 1 and less than or equal to 2147483647."
        ]
    }
    resp = push(client, peer_a, from_hub(CITY_A, 1, A_DEPT, version), atomic=True)
    assert resp.status_code == 422
    assert "origin.version" in resp.get_json()["results"][0]["errors"]
    assert held(app) == set()


def test_a_version_jumping_too_far_is_refused_and_the_origins_next_version_applies(
    app: Flask, client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    [new_too_far] = results(client, peer_a, from_hub(CITY_A, 1, A_DEPT, 1001))
    assert new_too_far["status"] == "rejected"
    assert new_too_far["errors"] == {
        "origin.version": [
            "version 1001 is more than 1000 above the version held (0): "
            "versions move forward by a bounded step"
        ]
    }
    [created] = results(client, peer_a, from_hub(CITY_A, 1, A_DEPT, 1))
    assert created["status"] == "created"
    pinned = from_hub(CITY_A, 1, A_DEPT, 2**31 - 1, status="revoked")
    pinned["revoked"] = {"at": "2026-06-01T08:00:00+08:00", "reason": "伪造"}
    [refused] = results(client, peer_a, pinned)
    assert refused["status"] == "rejected"
    assert "more than 1000 above the version held (1)" in refused["errors"]["origin.version"][0]
    # The origin's own next version still applies; so does one the full step ahead.
    corrected = from_hub(CITY_A, 1, A_DEPT, 2, fine_yuan="30000.00")
    [applied] = results(client, peer_a, corrected)
    assert applied["status"] == "updated"
    [ahead] = results(client, peer_a, from_hub(CITY_A, 1, A_DEPT, 1002, fine_yuan="40000.00"))
    assert ahead["status"] == "updated"
    assert held(app) == {(CITY_A, "city-a-id-1", 1002)}
    assert [r["reason"] for r in refusals(app)] == ["the version jumps too far"] * 2
    other = make_token("peer", hub="nation")
    versions = [
        i["record"]["origin"]["version"]
        for i in client.get("/api/v1/feed", headers=other).get_json()["items"]
    ]
    assert versions == [1, 2, 1002]


def test_the_step_follows_the_setting(app_factory: Callable[..., Flask]) -> None:
    from credithub.clients.service import create_client

    app = app_factory(federation={"max_version_step": 3})
    with app.app_context(), db.transaction() as session:
        _, token = create_client(session, "peer-city-a", "peer", hub=CITY_A)
    client, peer = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert [r["status"] for r in results(client, peer, from_hub(CITY_A, 1, A_DEPT, 4))] == [
        "rejected"
    ]
    assert [r["status"] for r in results(client, peer, from_hub(CITY_A, 1, A_DEPT, 3))] == [
        "created"
    ]
    assert [r["status"] for r in results(client, peer, from_hub(CITY_A, 1, A_DEPT, 7))] == [
        "rejected"
    ]
    assert [r["status"] for r in results(client, peer, from_hub(CITY_A, 1, A_DEPT, 6))] == [
        "updated"
    ]


# --- 4. Refusals visible to the joint office -----------------------------------------------


def test_the_joint_office_lists_refusals_newest_first(
    app: Flask, client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    admin = make_token("admin")
    results(client, peer_a, from_hub(CITY_B, 1, B_DEPT), from_hub(CITY_A, 2, A_DEPT, 5000))
    dept = make_token("department", name="zhujian", uscc=ZHUJIAN)
    results(client, dept, penalty("X-1", authority={"uscc": CAIZHENG}))
    page = client.get("/api/v1/sync/refusals?page_size=2", headers=admin)
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert (body["page"], body["page_size"], body["total"]) == (1, 2, 3)
    newest, step = body["items"]
    assert newest["actor"] == "zhujian"
    assert newest["reason"] == "a department writes only records it decided"
    assert newest["origin"] is None
    assert step["actor"] == "peer-city-a"
    assert step["action"] == "write"
    assert step["origin"] == {"hub": CITY_A, "id": "city-a-id-2", "version": 5000}
    assert step["authority"] == A_DEPT
    assert (step["kind"], step["ref"]) == ("penalty", "city-a-2")
    assert step["reason"] == "the version jumps too far"
    assert "origin.version" in step["errors"]
    assert step["at"].endswith("+00:00")
    [oldest] = client.get("/api/v1/sync/refusals?page=2&page_size=2", headers=admin).get_json()[
        "items"
    ]
    assert oldest["origin"]["hub"] == CITY_B
    assert oldest["reason"] == "a peer sends only records of its own hub or of hubs it relays for"
    mine = client.get("/api/v1/sync/refusals?actor=peer-city-a", headers=admin).get_json()
    assert mine["total"] == 2


def test_refusals_are_for_the_joint_office_only(
    client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    assert client.get("/api/v1/sync/refusals").status_code == 401
    assert client.get("/api/v1/sync/refusals", headers=peer_a).status_code == 403
    dept = make_token("department", uscc=ZHUJIAN)
    assert client.get("/api/v1/sync/refusals", headers=dept).status_code == 403
    admin = make_token("admin")
    too_big = client.get("/api/v1/sync/refusals?page_size=501", headers=admin)
    assert too_big.status_code == 422
    assert "page_size" in too_big.get_json()["errors"]


def test_a_revocation_refused_is_listed(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    dept = make_token("department", uscc=ZHUJIAN)
    [mine] = results(client, dept, penalty("R-1"))
    other = make_token("department", name="caizheng", uscc=CAIZHENG)
    resp = client.post(f"/api/v1/records/{mine['id']}/revoke", json={"reason": "x"}, headers=other)
    assert resp.status_code == 403
    admin = make_token("admin")
    [item] = client.get("/api/v1/sync/refusals", headers=admin).get_json()["items"]
    assert (item["action"], item["actor"], item["record_id"]) == ("revoke", "caizheng", mine["id"])
    assert (
        item["reason"]
        == "only the deciding department (or the joint office) may revoke this record"
    )


def test_the_migration_binds_each_authority_to_the_origin_of_its_earliest_record(
    app: Flask, client: FlaskClient, peer_a: Headers, make_token: Callable[..., Headers]
) -> None:
    from datetime import timedelta

    from alembic import command
    from sqlalchemy import update

    from credithub.migrate import alembic_config

    dept = make_token("department", uscc=ZHUJIAN)
    results(client, dept, penalty("HERE-1"))
    results(client, peer_a, from_hub(CITY_A, 1, A_DEPT), from_hub(CITY_A, 2, A_DEPT))
    with app.app_context(), db.transaction() as session:
        # Held before bindings existed: a record of another origin, older, naming A's authority.
        first = session.scalar(select(func.min(Record.created_at)))
        assert first is not None
        session.execute(
            update(Record)
            .where(Record.origin_id == "city-a-id-2")
            .values(origin_hub=CITY_B, created_at=first - timedelta(days=1))
        )
        engine = db.engine
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")  # to just before the bindings
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert bound(app) == {ZHUJIAN: "local", A_DEPT: CITY_B}
    [refused] = results(client, peer_a, from_hub(CITY_A, 3, A_DEPT))
    assert "belongs to hub city-b" in refused["errors"]["authority.uscc"][0]


@pytest.mark.skipif(not PG_URL, reason="SQLite takes one writer at a time: no race to lose")
@pytest.mark.parametrize(
    ("second_hub", "outcome"),
    [
        (CITY_B, f"503 authority {A_DEPT} was bound to another hub meanwhile; send again"),
        (CITY_A, "bound"),
    ],
)
def test_two_writers_binding_one_authority_at_once(
    app: Flask, second_hub: str, outcome: str
) -> None:
    """The second waits for the first's commit; bound meanwhile to another hub, its batch
    fails to be sent again (503), never binding or writing on a binding that does not hold."""
    from credithub.db import utcnow
    from credithub.errors import Unavailable
    from credithub.records import bindings

    first_bound, release = threading.Event(), threading.Event()
    found: dict[str, str] = {}

    def first() -> None:
        with app.app_context(), db.transaction() as session:
            bindings.bind(session, {A_DEPT: CITY_A}, utcnow())
            first_bound.set()
            release.wait(10)

    def second() -> None:
        first_bound.wait(10)
        with app.app_context():
            try:
                with db.transaction() as session:
                    bindings.bind(session, {A_DEPT: second_hub}, utcnow())
                found["second"] = "bound"
            except Unavailable as exc:
                found["second"] = f"{exc.status} {exc.message}"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_bound.wait(10)
    time.sleep(0.5)  # the second is waiting on the first's row
    assert "second" not in found
    release.set()
    for thread in threads:
        thread.join(20)
    assert found["second"] == outcome
    assert bound(app) == {A_DEPT: CITY_A}


def test_the_openapi_document_describes_refusals_and_the_version_bound(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    get = spec["paths"]["/api/v1/sync/refusals"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"page", "page_size", "actor"}
    assert "RefusalPage" in str(get["responses"]["200"])
    item = spec["components"]["schemas"]["Refusal"]["properties"]
    assert set(item) >= {"at", "actor", "origin", "authority", "reason", "errors"}
    version = spec["components"]["schemas"]["Origin"]["properties"]["version"]
    assert (version["minimum"], version["maximum"]) == (1, 2**31 - 1)


def test_a_pull_that_loses_a_binding_race_fails_its_run_and_the_next_run_applies_the_page(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    from credithub.errors import Unavailable
    from credithub.records import bindings
    from credithub.sync import service
    from credithub.sync.models import SyncState
    from tests.sync.test_pull import Feed

    app = app_factory(hub={"id": "city"}, server={"prepare_apart_from": 0})
    items = [
        {"cursor": str(n), "op": "upsert", "record": from_hub("province", n, A_DEPT)}
        for n in range(1, 4)
    ]
    bind = bindings.bind

    def lost(*_args: Any) -> None:
        raise Unavailable("authority bound to another hub meanwhile; send again")

    monkeypatch.setattr(bindings, "bind", lost)
    with app.app_context():
        failed = service.run_one(Feed(items, page=10))
        assert failed.errors == ["authority bound to another hub meanwhile; send again"]
        state = db.session.get(SyncState, "province")
        assert state is not None
        assert (state.pull_cursor, state.failures) == (None, 1)
        assert held(app) == set()
        monkeypatch.setattr(bindings, "bind", bind)
        assert service.run_one(Feed(items, page=10)).ok
        assert len(held(app)) == 3
