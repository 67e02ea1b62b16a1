"""`database.replica_url`: screening, the public profile and search, and the feed read from a
PostgreSQL read replica; every write goes to the primary.

The replica here is a read-only role of the test database itself (it may only SELECT, and every
transaction it begins is read-only): what it answers shows the reads went there, and a write
sent to it would fail, so every write that succeeds went to the primary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text

from credithub import create_app
from credithub.config import ConfigError
from credithub.db import db
from credithub.standing.models import CheckLog
from tests.conftest import PG_URL
from tests.records.samples import BEIJIANG, SHUDAO
from tests.workflows.helpers import Headers, listing, push, tokens

READER = "credithub_reader"


def _as_reader(url: str) -> str:
    """The same database, as the read-only role (the test server trusts loopback logins)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{READER}@{rest.split('@', 1)[-1]}?application_name=credithub-replica"


def test_a_replica_is_for_a_postgresql_hub_only(tmp_path: Any) -> None:
    replica = "postgresql://reader@127.0.0.1:5432/credithub"
    with pytest.raises(ConfigError, match=r"database\.replica_url"):
        create_app({"instance_path": tmp_path, "database": {"replica_url": replica}})
    with pytest.raises(ConfigError, match=r"database\.replica_url"):
        create_app(
            {"instance_path": tmp_path, "database": {"url": replica, "replica_url": "sqlite://"}}
        )


needs_postgres = pytest.mark.skipif(
    not PG_URL,
    reason="database.replica_url is PostgreSQL-only (a SQLite hub is one file: nothing to "
    "replicate); set CREDITHUB_TEST_DATABASE_URL",
)


@pytest.fixture
def reader(database_url: str) -> str:
    """A login role that may only read the test database."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER})
        if not exists:
            conn.execute(text(f"CREATE ROLE {READER} LOGIN"))
        conn.execute(text(f"ALTER ROLE {READER} SET default_transaction_read_only = on"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {READER}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER}"))
    engine.dispose()
    return _as_reader(database_url)


@pytest.fixture
def app(app_factory: Callable[..., Flask], reader: str) -> Flask:
    return app_factory(database={"replica_url": reader})


def _single_check_ran(database_url: str, fragment: str) -> bool:
    """Whether a connection of the read-only role last ran a statement containing `fragment`
    (PostgreSQL shows each connection's latest statement: the single check runs on a DBAPI
    connection of its own, in autocommit mode)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        queries = conn.scalars(
            text("SELECT query FROM pg_stat_activity WHERE usename = :r"), {"r": READER}
        ).all()
    engine.dispose()
    return any(fragment in q for q in queries)


class Statements:
    """The statements an engine runs through SQLAlchemy (sessions and connections)."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def ran(self, fragment: str) -> bool:
        found = any(fragment in s for s in self.statements)
        self.statements.clear()
        return found


@needs_postgres
def test_screening_profiles_and_the_feed_read_from_the_replica_and_writes_go_to_the_primary(
    app: Flask, make_token: Callable[..., Headers], database_url: str
) -> None:
    primary, _, replica_engine, _ = app.extensions["credithub.db"]
    replica, written = Statements(replica_engine), Statements(primary)
    client = app.test_client()
    t = tokens(make_token)
    peer = make_token("peer", hub="city-x")
    push(client, t["zhujian"], listing())  # a write: on the primary

    # The single check, on the lane and on Flask's path (the first reads the token).
    url = f"/api/v1/check/{SHUDAO}?domain=construction"
    for _ in range(2):
        resp = client.get(url, headers=t["bidding"])
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["verdict"] == "barred"
    assert _single_check_ran(database_url, "subjects.uscc = ")

    # A batch check: its reads on the replica, its check log written on the primary.
    resp = client.post(
        "/api/v1/check",
        json={"domain": "construction", "subjects": [{"uscc": SHUDAO}, {"uscc": BEIJIANG}]},
        headers=t["bidding"],
    )
    assert resp.status_code == 200, resp.get_json()
    assert [r["verdict"] for r in resp.get_json()["results"]] == ["barred", "clear"]
    assert replica.ran("FROM subjects LEFT OUTER JOIN standings")

    # At an instant past the stored standing's validity: computed from the records (primary).
    replica.ran(""), written.ran("")
    resp = client.get(f"{url}&at=2099-01-01", headers=t["bidding"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["verdict"] == "clear"  # the listing has run its course by then
    assert written.ran("FROM records")  # its records read on the primary
    assert not replica.ran("FROM records")

    # The public profile and search.
    resp = client.get(f"/api/v1/public/entities/{SHUDAO}")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"] == "四川蜀道路桥建设有限公司"
    assert replica.ran("FROM subjects")
    resp = client.get("/api/v1/public/entities?q=蜀道")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["total"] == 1
    page = client.get(f"/entities/{SHUDAO}")
    assert page.status_code == 200
    assert "四川蜀道路桥建设有限公司" in page.get_data(as_text=True)
    assert replica.ran("FROM subjects")

    # The feed, for a peer.
    resp = client.get("/api/v1/feed?after=0", headers=peer)
    assert resp.status_code == 200, resp.get_json()
    assert len(resp.get_json()["items"]) == 1
    assert replica.ran("FROM record_changes")

    # Every check was recorded: the writes went to the primary (the replica refuses them).
    app.extensions["credithub.check_log"].flush()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckLog)) == 5


@needs_postgres
def test_the_replica_role_refuses_writes(reader: str) -> None:
    """What the test above relies on: a write sent to the replica fails."""
    engine = create_engine(reader.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn, pytest.raises(Exception, match="read-only transaction"):
        conn.execute(text("DELETE FROM checks"))
    engine.dispose()
