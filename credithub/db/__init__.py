"""The database layer, by concern:

- `columns`: the declarative base, UTC instants, JSON columns (`JsonText`), `utcnow`;
- `engine`: connection settings per database and the switches of the speed mechanisms below;
- `session`: a session per application context, the one commit point and its hooks;
- `bulk`: bulk inserts at the driver, long IN lists, the head rows of logs;
- `read`: `Read`, a prebuilt SELECT on the thread's own connection (the single check);
- `statistics`: PostgreSQL's planner statistics after bulk writes;
- `wal`: SQLite's write-ahead log, copied and emptied apart from the commits;
- `ids`: `new_id`; `canonical`: `canonical_json`, what every digest is taken of.
"""

from credithub.db.bulk import bind_processor, bulk_insert, insert_ignoring, locked_head, one_of
from credithub.db.canonical import canonical_json
from credithub.db.columns import (
    Base,
    JsonText,
    UtcDateTime,
    as_date,
    date_as_read,
    encode_json,
    table_of,
    utcnow,
)
from credithub.db.engine import Speed, make_engine, speed_of, write_intent
from credithub.db.ids import new_id
from credithub.db.read import Read
from credithub.db.session import (
    Database,
    after_outcome,
    db,
    on_before_commit,
    tx_state,
)
from credithub.db.statistics import keep_statistics_fresh
from credithub.db.wal import LOG_LIMIT

__all__ = [
    "LOG_LIMIT",
    "Base",
    "Database",
    "JsonText",
    "Read",
    "Speed",
    "UtcDateTime",
    "after_outcome",
    "as_date",
    "bind_processor",
    "bulk_insert",
    "canonical_json",
    "date_as_read",
    "db",
    "encode_json",
    "insert_ignoring",
    "keep_statistics_fresh",
    "locked_head",
    "make_engine",
    "new_id",
    "on_before_commit",
    "one_of",
    "speed_of",
    "table_of",
    "tx_state",
    "utcnow",
    "write_intent",
]
