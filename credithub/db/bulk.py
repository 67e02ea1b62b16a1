"""Statements for many rows at once: bulk inserts, long IN lists, the head rows of logs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import repeat
from operator import is_, itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from credithub.db.columns import Base, JsonText, UtcDateTime, table_of
from credithub.db.engine import speed_of


def one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as this database reads a long list best.

    PostgreSQL gets one array parameter (`= ANY(…)`): the statement is the same for every
    list, and a list of 500 keys was planned afresh each time (about 1 ms of a 3 ms lookup).
    SQLite gets texts as one JSON array read by `json_each` (the index is still searched per
    key); an IN list was rendered afresh for every list. Anything else, or with
    `database.array_lookups` off: the usual IN list (the plain path).
    """
    bind = session.get_bind()
    dialect = bind.dialect.name if speed_of(bind).array_lookups else "plain"
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


def insert_ignoring(session: Session, table: Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` into `table`, as the session's database writes it: a
    row whose key is held already (or being inserted by another transaction, which this one
    then waits for) is left as it is."""
    dialect = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return dialect(table).on_conflict_do_nothing()


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
        session.execute(insert_ignoring(session, table).values(id=1, **initial))
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
    With `database.bulk_binds` off, SQLAlchemy's own insert (the plain path) takes them.
    """
    if not rows:
        return
    table = table_of(model)
    conn = session.connection() if isinstance(session, Session) else session
    if not speed_of(conn).bulk_binds:
        conn.execute(insert(table), list(rows))
        return
    dialect = conn.dialect
    columns = list(rows[0])
    processors = [
        (i, proc, isinstance(table.c[name].type, Date | DateTime | UtcDateTime))
        for i, name in enumerate(columns)
        if (proc := _quick_processor(table.c[name].type, dialect)) is not None
    ]
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
    # Names come from the mapped table and the code's own row keys, never from input.
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        cursor: Any = conn.connection.cursor()  # psycopg's, in this transaction
        try:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as rows_in:
                for value in values:
                    rows_in.write_row(value)
        finally:
            cursor.close()
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([marker] * len(columns))})"  # noqa: S608
    conn.exec_driver_sql(sql, values)


def bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of this column type before the driver takes it (the
    dialect's form of the type: SQLite's dates and instants are text)."""
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _quick_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processor; on SQLite, a quicker one for the hot paths' values
    that stores the same text (an import binds a date, an instant and a JSON text per row
    and column, and SQLAlchemy's SQLite processors format dates through a dict each time).
    Any other value goes to the type's own processor, which also keeps its errors."""
    own = bind_processor(type_, dialect)
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
