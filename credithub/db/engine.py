"""Engines: connection settings per database, and the switches of this layer's speed
mechanisms (docs/performance.md)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url

from credithub.db.columns import encode_json

# Whether the transaction about to begin will write. On SQLite a writer takes the write lock at
# BEGIN so two writers queue instead of one failing mid-transaction; readers never wait.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@dataclass(frozen=True)
class Speed:
    """The speed mechanisms of this layer, each on unless configured off (`[database]`); off,
    each takes the plain path, which its test compares it with."""

    bulk_binds: bool = True  # bulk_insert binds at the driver (COPY on PostgreSQL)
    array_lookups: bool = True  # one_of sends a list of keys as one array parameter
    prepared_reads: bool = True  # db.Read runs on a thread's own DBAPI connection
    analyze_after_growth: bool = True  # PostgreSQL: ANALYZE a table a write has doubled
    checkpoints_apart: bool = True  # SQLite: a thread of a served process copies the log


_SPEED = "credithub_speed"  # the engine's execution option that holds its `Speed`


def speed_of(bind: Engine | Connection) -> Speed:
    """The switches of the engine `bind` is (or is of); all on for an engine made elsewhere."""
    speed = bind.get_execution_options().get(_SPEED)
    return speed if isinstance(speed, Speed) else Speed()


def make_engine(
    url: str, echo: bool = False, pool_size: int = 5, speed: Speed | None = None
) -> Engine:
    options = {_SPEED: speed or Speed()}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=encode_json,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 30},
            execution_options=options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        pool_pre_ping=True,
        json_serializer=encode_json,
        execution_options=options,
    )
    event.listen(engine, "connect", _pg_json)
    return engine


def _create_private(path: str | None) -> None:
    """A SQLite database file is made readable by its owner only (its write-ahead log and
    shared-memory files take the same mode from it): it holds personal data."""
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    if not os.path.isdir(os.path.dirname(path) or "."):
        return  # SQLite itself says the file cannot be opened
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _pg_json(dbapi_conn: Any, _record: Any) -> None:
    # psycopg decodes json/jsonb itself; the same fast decoder as on SQLite. (Imported here: a
    # hub on SQLite never loads the driver.)
    from psycopg.types.json import set_json_loads

    set_json_loads(orjson.loads, dbapi_conn)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see the begin listener).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # A 64 MiB page cache (the default is 2 MiB): a bulk write touches pages of every index of
    # the records and subjects tables, which outgrow 2 MiB after some ten thousand records.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
