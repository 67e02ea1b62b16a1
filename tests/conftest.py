"""Fixtures: a real database per test (SQLite by default, PostgreSQL when
CREDITHUB_TEST_DATABASE_URL is set), the app, an HTTP test client, API clients with tokens."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, inspect, text

from connectors.creditchina.standin import StandIn
from credithub import create_app, migrate
from credithub.db import db, make_engine
from tests.signing import pinned_peers

PG_URL = os.environ.get("CREDITHUB_TEST_DATABASE_URL", "")

# Property tests and the API fuzzing are repeatable: the same examples on every run
# (derandomized, no example database), no per-example deadline (a shared CI machine is slow at
# times), and few examples unless a test asks for more.
settings.register_profile(
    "credithub", derandomize=True, deadline=None, max_examples=25, database=None
)
settings.load_profile("credithub")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: a template SQLite file, or the PostgreSQL test database."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll until the condition holds (a loaded machine may start processes slowly)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def empty_database(template: str, path: Path) -> str:
    """A migrated, empty database: PostgreSQL's test database emptied, or a new SQLite file at
    `path` (a test that compares two hubs makes one after the other)."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A freshly migrated, empty database for this test."""
    return empty_database(database_template, tmp_path / "credithub.db")


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app_factory(database_url: str, instance_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "instance_path": instance_path,
            "testing": True,
            "database": {"url": database_url},
            "logging": {"level": "WARNING"},
            "federation": {"keys": pinned_peers()},
        }
        for key, value in overrides.items():
            config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        buffer = app.extensions["credithub.check_log"]
        if buffer is not None:
            buffer.close()  # as a worker does when it ends: what is buffered gets written
        with app.app_context():
            db.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture
def national() -> Iterator[StandIn]:
    """The national 双公示 exchange's stand-in, on loopback (app key hub-key, secret hub-secret)."""
    standin = StandIn("hub-key", "hub-secret").start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_token(app: Flask) -> Callable[..., dict[str, str]]:
    """Create an API client of a kind; return the Authorization header for its token."""
    from credithub.clients.service import create_client

    counter = iter(range(1, 10_000))

    def make(
        kind: str = "admin",
        uscc: str | None = None,
        name: str | None = None,
        hub: str | None = None,
        relays_for: tuple[str, ...] = (),
    ) -> dict[str, str]:
        n = next(counter)
        if kind == "peer" and hub is None:
            hub = f"hub-{n}"
        with app.app_context(), db.transaction() as session:
            _client, token = create_client(
                session, name or f"{kind}-{n}", kind, uscc, hub=hub, relays_for=relays_for
            )
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def cli_env(database_url: str, instance_path: Path) -> dict[str, str]:
    """Environment for running the `credithub` command against this test's database."""
    return {
        "CREDITHUB_INSTANCE": str(instance_path),
        "CREDITHUB_DATABASE_URL": database_url,
        "CREDITHUB_LOGGING_LEVEL": "WARNING",
        "CREDITHUB_CONFIG": "",
    }


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    from credithub.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(
            main, list(args), env={**cli_env, **(env or {})}, catch_exceptions=False
        )

    return run
