"""Engine, sessions and the one commit point.

Services receive a session and only flush. The request wrapper (or a CLI command or job via
`transaction()`) commits once, or rolls back on any error, so a request's changes land whole
or not at all.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from itertools import repeat
from operator import is_, itemgetter
from typing import Any, NamedTuple, cast

import orjson
from flask import Flask, current_app, g
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    MetaData,
    Select,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every database (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Whether the transaction about to begin will write. On SQLite a writer takes the write lock at
# BEGIN so two writers queue instead of one failing mid-transaction; readers never wait.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk statements (executemany, no ORM overhead)."""
    return cast(Table, model.__table__)


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as this database reads a long list best.

    PostgreSQL gets one array parameter (`= ANY(…)`): the statement is the same for every
    list, and a list of 500 keys was planned afresh each time (about 1 ms of a 3 ms lookup).
    SQLite gets texts as one JSON array read by `json_each` (the index is still searched per
    key); an IN list was rendered afresh for every list. Anything else: the usual IN list.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return cast(
            "ColumnElement[bool]",
            column == any_(bindparam(None, list(values), type_=ARRAY(column.type))),
        )
    if dialect == "sqlite" and all(type(v) is str for v in values):
        keys = func.json_each(bindparam(None, orjson.dumps(list(values)).decode())).table_valued(
            "value"
        )
        return cast("ColumnElement[bool]", column.in_(select(keys.c.value)))
    return cast("ColumnElement[bool]", column.in_(values))


def locked_head(session: Session, model: type[Base], **initial: Any) -> Any:
    """The one row (id 1) of a head table (the change log's, the audit chain's), locked until
    the commit; made with `initial` if the table is empty.

    Two first writers may meet on an empty hub: the row is inserted `ON CONFLICT DO NOTHING`
    and read again under its lock, so the second waits for the first's commit and takes the
    row it made (a plain insert failed the second with a unique violation).
    """
    table = table_of(model)
    query = (
        select(model)
        .where(table.c.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)  # what the row holds now, not a copy
    )
    head = session.execute(query).scalar_one_or_none()
    if head is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(table).values(id=1, **initial).on_conflict_do_nothing())
        head = session.execute(query).scalar_one()
    return head


def bulk_insert(
    session: Session | Connection,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert many rows at the driver (in a session's or a connection's transaction):
    PostgreSQL takes them by COPY, other databases by one executemany.

    The hot paths (imports, pushes, the change log, the check log) insert thousands of rows per
    transaction; SQLAlchemy's per-row parameter handling costs more than the database does.
    Values still go through each column type's own bind processor (JSON, instants, dates),
    computed once. On PostgreSQL an executemany still sends and waits on every row: COPY
    takes a push's rows in about a fifth of the time (a quarter for a batch check's log).
    """
    if not rows:
        return
    table = table_of(model)
    conn = session.connection() if isinstance(session, Session) else session
    dialect = conn.dialect
    columns = list(rows[0])
    processors = [
        (i, proc, isinstance(table.c[name].type, Date | DateTime | UtcDateTime))
        for i, name in enumerate(columns)
        if (proc := _bind_processor(table.c[name].type, dialect)) is not None
    ]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    # Names come from the mapped table and the code's own row keys, never from input.
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    values: list[tuple[Any, ...]] = list(map(pick, rows))
    if processors:
        # Column by column, so the values go through their processor in C's loop (map); a
        # column holding one object throughout (the instant a batch is written at) is
        # processed once, and a column of dates or instants once per distinct value (a batch
        # of records holds a few hundred decision dates).
        by_column = list(zip(*values, strict=True))
        for i, proc, timely in processors:
            column = by_column[i]
            first = column[0]
            if all(map(is_, column, repeat(first))):
                by_column[i] = (proc(first),) * len(column)
            elif timely:
                bound = {value: proc(value) for value in set(column)}
                by_column[i] = tuple(map(bound.__getitem__, column))
            else:
                by_column[i] = tuple(map(proc, column))
        values = list(zip(*by_column, strict=True))
    if dialect.name == "postgresql":
        cursor: Any = conn.connection.cursor()  # psycopg's, in this transaction
        try:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as rows_in:
                for value in values:
                    rows_in.write_row(value)
        finally:
            cursor.close()
        return
    conn.exec_driver_sql(sql, values)


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor; on SQLite, a quicker one for the hot paths' values
    that stores the same text (an import binds a date, an instant and a JSON text per row
    and column, and SQLAlchemy's SQLite processors format dates through a dict each time).
    Any other value goes to the type's own processor, which also keeps its errors."""
    own: Callable[[Any], Any] | None = type_._cached_bind_processor(dialect)
    if own is None or dialect.name != "sqlite":
        return own
    if isinstance(type_, UtcDateTime):

        def instant(value: Any) -> Any:
            # SQLAlchemy's SQLite form: the UTC wall time, always with six fraction digits.
            if type(value) is datetime and value.tzinfo is not None:
                return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            return own(value)

        return instant
    if isinstance(type_, Date) and not isinstance(type_, DateTime):

        def day(value: Any) -> Any:
            return value.isoformat() if type(value) is date else own(value)

        return day
    if isinstance(type_, JSON):

        def encoded(value: Any) -> Any:
            return str(value) if type(value) is JsonText else own(value)

        return encoded
    return own


class Read:
    """A prebuilt SELECT for the hottest read paths, run without a Session or a Connection.

    Around a query SQLite answers in about 10 µs, a Session costs about 100 µs and a Core
    Connection about 60 (transaction bookkeeping, events, result objects), and taking a
    connection from the pool and giving it back about 20 more; a single check makes one query.
    The statement is compiled once per dialect and runs on the thread's own DBAPI connection
    (`_reader_connection`), in autocommit mode: it is one statement and needs no transaction of
    its own. Parameters and columns go through their types' bind and result processors as
    SQLAlchemy would put them through.
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
            if (processor := bind.type._cached_bind_processor(dialect)) is not None
        }
        results = [
            column.type._cached_result_processor(dialect, None)
            for column in self.stmt.selected_columns
        ]
        prepared = _Prepared(compiled.string, names, binds, results)
        self._prepared[dialect.name] = prepared
        return prepared

    def all(self, engine: Engine, **params: Any) -> list[tuple[Any, ...]]:
        """The rows for `params`, each value bound and each column read as SQLAlchemy would."""
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


class _Prepared(NamedTuple):
    sql: str
    names: tuple[str, ...] | None  # the order of positional parameters (None: by name)
    binds: dict[str, Any]  # bind processors by parameter name
    results: list[Any]  # result processors by column


def keep_statistics_fresh(session: Session, grown: Mapping[str, int]) -> None:
    """After a bulk write, refresh PostgreSQL's statistics of tables it grew a lot.

    Bulk lookups fetch a few hundred keys per query. On a young table (a first import) the
    planner's statistics still describe it as small and it picks plans that scan the whole
    table, so every batch is slower than the last (seen: 335 records/s instead of thousands).
    ANALYZE in the writing transaction counts the rows it has just inserted. Growth is
    counted across this process's writes since it last analysed a table, so many small writes
    (a push written in parts) count as much as one large one.
    """
    if session.get_bind().dialect.name != "postgresql" or not grown:
        return
    for name, added in grown.items():
        _grown_since_analyze[name] = _grown_since_analyze.get(name, 0) + added
    candidates = [name for name in grown if _grown_since_analyze[name] > 1000]
    if not candidates:
        return
    known: dict[str, float] = dict(
        session.execute(
            text("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:names)"),
            {"names": candidates},
        ).all()
    )
    # reltuples is -1 for a table never analysed. A table that has doubled gets plans for its
    # size; analysing more often (at a quarter more) cost a push on an empty hub about 40 µs a
    # record, each ANALYZE sampling up to 30,000 rows.
    due = [n for n in candidates if _grown_since_analyze[n] > max(float(known.get(n, -1)), 0.0)]
    # ANALYZE in a transaction holds its table's lock until the commit: two writers analysing
    # two tables in turn would deadlock. One writing transaction at a time analyses; the others
    # leave it to a later write (their counts stay).
    if not due or not session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ANALYZE_LOCK}
    ):
        return
    for name in due:
        session.execute(text(f"ANALYZE {name}"))  # names: the code's own tables
        _grown_since_analyze[name] = 0


# Rows this process has added to each table since it last analysed it.
_grown_since_analyze: dict[str, int] = {}
_ANALYZE_LOCK = 0x63686B616E6C7A  # the advisory lock of a transaction that analyses


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A 128-bit id as 32 hex digits: the time in milliseconds (48 bits), then 80 random bits
    (a UUIDv7's layout without its version bits; uuid4 cost seven times as much, and an import
    makes three ids per record). Ids made one after another sort together, so the indexes keyed
    by them grow at one end: a batch of new records dirties a few pages of each index, where
    random ids dirtied about one page per record (each written again at commit)."""
    return (time.time_ns() // 1_000_000).to_bytes(6, "big").hex() + _random_digits()


# The random part of ids is cut from a block of the OS's randomness: one call for 400 ids, not
# one each (about 5 µs a call on a busy VM). A forked process drops the block it inherited,
# so it never hands out the ids its parent does.
_RANDOM_BLOCK = 4000  # bytes
_random = threading.local()


def _random_digits() -> str:
    state = _random.__dict__
    digits: str = state.get("digits", "")
    at: int = state.get("at", 0)
    if at >= len(digits):
        digits, at = os.urandom(_RANDOM_BLOCK).hex(), 0
        state["digits"] = digits
    state["at"] = at + 20
    return digits[at : at + 20]


def _drop_random_block() -> None:
    _random.__dict__.clear()


os.register_at_fork(after_in_child=_drop_random_block)


class JsonText(str):
    """A JSON column's value already encoded (by `_json`'s rules) where it was made: stored as
    it is. Records and standings are encoded while they are checked, beside the writer."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> JsonText:
        """`value` encoded as a JSON column stores it."""
        return cls(_json(value))


def _json(value: Any) -> str:
    # Compact, Chinese text as UTF-8 (3 bytes a character, not 6 for a \uXXXX escape). orjson:
    # every record, subject and standing written stores JSON; the standard encoder was a tenth
    # of an import's time.
    if type(value) is JsonText:
        return str(value)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, echo: bool = False, pool_size: int = 5) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=_json,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, pool_pre_ping=True, json_serializer=_json
    )
    event.listen(engine, "connect", _pg_json)
    return engine


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


LOG_LIMIT = 128 << 20  # SQLite: a log past this is emptied where checkpoints run apart


def _wal_checkpoint(engine: Engine, mode: str) -> bool:
    """Run a checkpoint outside any transaction; whether it was kept from completing."""
    if engine.dialect.name != "sqlite":
        return False
    conn = engine.raw_connection()  # the driver's autocommit: no transaction around it
    try:
        busy, *_ = conn.driver_connection.execute(  # type: ignore[union-attr]
            f"PRAGMA wal_checkpoint({mode})"
        ).fetchone()
    finally:
        conn.close()
    return bool(busy)


def _truncate_log(engine: Engine, over: int, patience: float) -> None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return
    wal = f"{engine.url.database}-wal"
    if not os.path.exists(wal) or os.path.getsize(wal) <= over:
        return
    deadline = time.monotonic() + patience
    # SQLite does not wait for another checkpoint to end (it answers busy at once).
    while _wal_checkpoint(engine, "TRUNCATE") and time.monotonic() < deadline:
        time.sleep(0.005)


def _checkpoint_loop(engine: Engine, wake: threading.Event, over: int) -> None:
    """A copy after each wake (a commit), and one more once commits pause: a commit under
    way when a copy ran is copied by the next."""
    pending = False
    while True:
        woken = wake.wait(timeout=1.0)
        wake.clear()
        if woken or pending:
            try:
                _wal_checkpoint(engine, "PASSIVE")
                _truncate_log(engine, over, patience=1.0)
            except Exception:  # a locked or vanished file: the next commit tries again
                logging.getLogger(__name__).warning("checkpoint failed", exc_info=True)
        pending = woken


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


class Database:
    """Per-app engine and a session per application context."""

    def init_app(self, app: Flask, url: str, echo: bool = False, pool_size: int = 5) -> None:
        engine = make_engine(url, echo=echo, pool_size=pool_size)
        app.extensions["credithub.db"] = (engine, sessionmaker(engine, expire_on_commit=False))
        app.teardown_appcontext(self._teardown)

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["credithub.db"][0]
        return engine

    @property
    def session(self) -> Session:
        """The session of the current application context, opened on first use."""
        session: Session | None = g.get("_db_session")
        if session is None:
            factory: sessionmaker[Session] = current_app.extensions["credithub.db"][1]
            session = factory()
            g._db_session = session
        return session

    def has_session(self) -> bool:
        return g.get("_db_session") is not None

    def begin_writing(self) -> None:
        """From here on this request writes: end its read-only part (authentication) first.

        On SQLite the next statement then opens a write transaction that takes the lock at
        BEGIN: a writer waits for the lock instead of failing when it upgrades a read, and it
        does not hold the lock while it is still validating its input.
        """
        if self.has_session():
            session = self.session
            if session.in_transaction() and not (session.new or session.dirty or session.deleted):
                session.commit()  # nothing to write; loaded objects stay usable (no expiry)
        write_intent.set(True)

    def commit(self) -> None:
        """The one commit point: called by the request wrapper, `transaction()` and jobs."""
        if self.has_session():
            self.session.commit()
            _after_outcome(self.session)

    def rollback(self) -> None:
        if self.has_session():
            _rollback(self.session)
            _after_outcome(self.session)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit once at the end of the block, roll back on any error (CLI and jobs)."""
        token = write_intent.set(True)
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            _rollback(session)
            raise
        finally:
            _after_outcome(session)
            write_intent.reset(token)

    def checkpoints_apart(self) -> None:
        """SQLite: this process's commits stop copying the write-ahead log into the database
        file (SQLite's automatic checkpoint, run by the committing connection once the log
        passes 4 MiB); the process calls `checkpoint` itself, where it waits on nothing (an
        import's process, after its turn to write). No-op on other databases."""
        engine = self.engine
        if engine.dialect.name == "sqlite":
            engine.dispose()  # connections made from now on
            event.listen(engine, "connect", _no_autocheckpoint)

    def checkpoint(self) -> None:
        """SQLite: copy the committed log into the database file, waiting on no reader or
        writer (PASSIVE). No-op on other databases."""
        _wal_checkpoint(self.engine, "PASSIVE")

    def truncate_log(self, over: int, patience: float = 5.0) -> None:
        """SQLite: if the log has grown past `over` bytes, copy it all and empty it (TRUNCATE),
        waiting up to `patience` seconds for another process's checkpoint. Call it between
        transactions while no other process writes: a log that is never wholly copied when a
        writer begins is never reused, and grows without end."""
        _truncate_log(self.engine, over, patience)

    def checkpoint_behind(self, over: int = LOG_LIMIT) -> None:
        """SQLite, in a process that serves requests (after `checkpoints_apart`): a thread of
        this process copies the log after each commit, beside the next request, and empties it
        past `over` bytes. Before, the commit that took the log past 4 MiB copied it while its
        request waited (about a tenth of a push's time). No-op on other databases."""
        engine = self.engine
        if engine.dialect.name != "sqlite" or not engine.url.database:
            return
        wake = threading.Event()
        threading.Thread(
            target=_checkpoint_loop, args=(engine, wake, over), name="checkpoint", daemon=True
        ).start()
        event.listen(engine, "commit", lambda _conn: wake.set())

    def _teardown(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            session.close()  # rolls back whatever was not committed


db = Database()


def _rollback(session: Session) -> None:
    # A transaction that never reached the database fires no rollback event: clear it here too.
    session.rollback()
    session.info.pop("tx", None)


def after_outcome(session: Session, fn: Callable[[Session], None]) -> None:
    """Run `fn` once the current transaction has committed or rolled back, in a new one.

    For what must be kept whatever the outcome: a refused attempt is audited even though the
    request that made it changes nothing.
    """
    session.info.setdefault("after_outcome", []).append(fn)


def _after_outcome(session: Session) -> None:
    hooks: list[Callable[[Session], None]] = session.info.pop("after_outcome", [])
    if hooks:
        for fn in hooks:
            fn(session)
        session.commit()


def tx_state(session: Session) -> dict[str, Any]:
    """State that lives as long as the current transaction: dropped on rollback and commit."""
    state: dict[str, Any] = session.info.setdefault("tx", {})
    return state


def on_before_commit(session: Session, fn: Callable[[Session], None], order: int) -> None:
    """Register `fn` to run once, inside the transaction, just before the next commit.

    Hooks run by ascending `order`, whatever order they were registered in: hooks that take
    locks must always take them in the same order, or two transactions can deadlock.
    """
    hooks: dict[Callable[[Session], None], int] = tx_state(session).setdefault("before_commit", {})
    hooks[fn] = order


@event.listens_for(Session, "before_commit")
def _run_before_commit(session: Session) -> None:
    hooks: dict[Callable[[Session], None], int] = tx_state(session).pop("before_commit", {})
    for fn in sorted(hooks, key=hooks.__getitem__):
        fn(session)


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    session.info.pop("tx", None)


@event.listens_for(Session, "after_soft_rollback")
def _clear_after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop("tx", None)
