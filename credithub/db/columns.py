"""The declarative base and the column types every model uses: UTC instants and JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, DateTime, MetaData, String, Table, TypeDecorator, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from credithub import clock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk statements (executemany, no ORM overhead)."""
    return cast(Table, model.__table__)


def utcnow() -> datetime:
    """The current instant (the hub's clock, `credithub.clock`)."""
    return clock.now()


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


class JsonText(str):
    """A JSON column's value already encoded (by `encode_json`) where it was made: stored as
    it is. Records and standings are encoded while they are checked, beside the writer."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> JsonText:
        """`value` encoded as a JSON column stores it."""
        return cls(encode_json(value))


def encode_json(value: Any) -> str:
    """A JSON column's text (the engines' serializer): compact, Chinese text as UTF-8 (3 bytes
    a character, not 6 for a \\uXXXX escape), keys in their own order. orjson: every record,
    subject and standing written stores JSON; the standard encoder was a tenth of an import's
    time. Not for digests: those take `canonical_json`."""
    if type(value) is JsonText:
        return str(value)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def date_as_read(column: Any) -> ColumnElement[Any]:
    """A date column read without its type's result processing (`as_date` parses it): on
    SQLite, SQLAlchemy's parses each date by a regular expression, a good share of reading
    tens of thousands of rows."""
    return type_coerce(column, String).label(column.name)


def as_date(value: date | str) -> date:
    """A date read by `date_as_read`: a date (PostgreSQL's driver) or its ISO text (SQLite)."""
    return date.fromisoformat(value) if isinstance(value, str) else value
