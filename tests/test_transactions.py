"""A block of writes after the session has read: it waits for the write lock rather than
failing because another process wrote in between (SQLite's stale-snapshot refusal)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from credithub.clients.models import Client
from credithub.clients.service import create_client
from credithub.db import db, make_engine


def test_a_write_block_after_a_read_is_not_refused_for_another_process_s_write(
    app: Flask, database_url: str
) -> None:
    with app.app_context():
        assert db.session.scalar(select(Client.id)) is None  # a read: a snapshot is taken
        other = make_engine(database_url)  # another process's writer, say a check-log flush
        with other.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
                if database_url.startswith("sqlite")
                else "INSERT INTO leases (name, holder, expires_at) VALUES (%s, %s, %s)",
                ("elsewhere", "another process", datetime(2030, 1, 1, tzinfo=UTC)),
            )
        other.dispose()
        with db.transaction() as session:
            create_client(session, "after-a-read", "consumer", actor="test")
    with app.app_context():
        names = db.session.scalars(select(Client.name)).all()
    assert names == ["after-a-read"]
