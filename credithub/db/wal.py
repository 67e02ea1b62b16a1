"""SQLite's write-ahead log: copying it into the database file (checkpoints) apart from the
commits, and emptying it once it has grown. No-ops on other databases."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

from credithub.db.engine import speed_of

LOG_LIMIT = 128 << 20  # SQLite: a log past this is emptied where checkpoints run apart


def checkpoints_apart(engine: Engine) -> None:
    """This process's commits stop copying the log into the database file (SQLite's
    automatic checkpoint, run by the committing connection once the log passes 4 MiB); the
    process copies it itself (`checkpoint`, `checkpoint_behind`). With
    `database.checkpoints_apart` off, commits keep copying it."""
    if engine.dialect.name == "sqlite" and speed_of(engine).checkpoints_apart:
        engine.dispose()  # connections made from now on
        event.listen(engine, "connect", _no_autocheckpoint)


def checkpoint(engine: Engine, mode: str = "PASSIVE") -> bool:
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


def truncate_log(engine: Engine, over: int, patience: float) -> None:
    """If the log has grown past `over` bytes, copy it all and empty it (TRUNCATE), waiting up
    to `patience` seconds for another process's checkpoint."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return
    wal = f"{engine.url.database}-wal"
    if not os.path.exists(wal) or os.path.getsize(wal) <= over:
        return
    deadline = time.monotonic() + patience
    # SQLite does not wait for another checkpoint to end (it answers busy at once).
    while checkpoint(engine, "TRUNCATE") and time.monotonic() < deadline:
        time.sleep(0.005)


def checkpoint_behind(engine: Engine, over: int) -> None:
    """A thread of this process copies the log after each commit and empties it past `over`
    bytes (after `checkpoints_apart`; not when that is switched off)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return
    if not speed_of(engine).checkpoints_apart:
        return
    wake = threading.Event()
    threading.Thread(
        target=_checkpoint_loop, args=(engine, wake, over), name="checkpoint", daemon=True
    ).start()
    event.listen(engine, "commit", lambda _conn: wake.set())


def _checkpoint_loop(engine: Engine, wake: threading.Event, over: int) -> None:
    """A copy after each wake (a commit), and one more once commits pause: a commit under
    way when a copy ran is copied by the next."""
    pending = False
    while True:
        woken = wake.wait(timeout=1.0)
        wake.clear()
        if woken or pending:
            try:
                checkpoint(engine, "PASSIVE")
                truncate_log(engine, over, patience=1.0)
            except Exception:  # a locked or vanished file: the next commit tries again
                logging.getLogger(__name__).warning("checkpoint failed", exc_info=True)
        pending = woken


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")
