"""`Read`: a prebuilt SELECT run on the thread's own DBAPI connection (the single check)."""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from typing import Any, NamedTuple

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect

from credithub.db.bulk import bind_processor
from credithub.db.engine import speed_of


class Read:
    """A prebuilt SELECT for the hottest read paths, run without a Session or a Connection.

    Around a query SQLite answers in about 10 µs, a Session costs about 100 µs and a Core
    Connection about 60 (transaction bookkeeping, events, result objects), and taking a
    connection from the pool and giving it back about 20 more; a single check makes one query.
    The statement is compiled once per dialect and runs on the thread's own DBAPI connection
    (`_reader_connection`), in autocommit mode: it is one statement and needs no transaction of
    its own. Parameters and columns go through their types' bind and result processors as
    SQLAlchemy would put them through. With `database.prepared_reads` off, a pooled Core
    Connection runs the statement (the plain path).
    """

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._prepared: dict[str, _Prepared] = {}

    def _prepare(self, dialect: Dialect) -> _Prepared:
        compiled = self.stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        binds = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind_processor(bind.type, dialect)) is not None
        }
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.stmt.selected_columns
        ]
        prepared = _Prepared(compiled.string, names, binds, results)
        self._prepared[dialect.name] = prepared
        return prepared

    def all(self, engine: Engine, **params: Any) -> list[tuple[Any, ...]]:
        """The rows for `params`, each value bound and each column read as SQLAlchemy would."""
        if not speed_of(engine).prepared_reads:
            with engine.connect() as plain:
                return [tuple(row) for row in plain.execute(self.stmt, params)]
        dialect = engine.dialect
        sql, names, binds, results = self._prepared.get(dialect.name) or self._prepare(dialect)
        for name, processor in binds.items():
            params[name] = processor(params[name])
        args: Any = params if names is None else tuple(params[name] for name in names)
        for attempt in (1, 2):
            conn = _reader_connection(engine)
            try:
                cursor = conn.cursor()
                try:
                    cursor.execute(sql, args)
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
                break
            except dialect.loaded_dbapi.Error as exc:
                _drop_reader_connection()
                # A connection the server closed (a restart) is replaced once; anything else
                # is the caller's error.
                if attempt == 2 or not dialect.is_disconnect(exc, conn, None):
                    raise
        return [
            tuple(v if p is None or v is None else p(v) for p, v in zip(results, row, strict=True))
            for row in rows
        ]


class _Prepared(NamedTuple):
    sql: str
    names: tuple[str, ...] | None  # the order of positional parameters (None: by name)
    binds: dict[str, Any]  # bind processors by parameter name
    results: list[Any]  # result processors by column


# Each thread's connection for `Read`: (process id, the engine's pool, DBAPI connection).
_readers = threading.local()
_inherited: list[Any] = []


def _reader_connection(engine: Engine) -> Any:
    """This thread's DBAPI connection for `Read`: made by the engine's pool (so with the
    engine's connect settings), then detached from it and kept, in autocommit mode.

    A worker serves one request at a time per thread, so it holds one such connection per
    thread beside its pool. It is replaced when the engine is another one or was disposed of
    (a new pool), and in a forked child.
    """
    held = getattr(_readers, "held", None)
    pid = os.getpid()
    if held is not None:
        if held[0] == pid and held[1] is engine.pool:
            return held[2]
        _drop_reader_connection()
    fairy = engine.raw_connection()
    fairy.detach()
    conn = fairy.dbapi_connection
    assert conn is not None  # a fresh checkout always holds one
    engine.dialect.set_isolation_level(conn, "AUTOCOMMIT")
    _readers.held = (pid, engine.pool, conn)
    return conn


@atexit.register  # at exit too: the main thread's connection is closed, not left to the collector
def _drop_reader_connection() -> None:
    held = getattr(_readers, "held", None)
    _readers.held = None
    if held is None:
        return
    if held[0] != os.getpid():
        _inherited.append(held[2])  # the parent's, inherited by fork: never close it here
        return
    with contextlib.suppress(Exception):
        held[2].close()
