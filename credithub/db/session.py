"""A session per application context, and the one commit point with its hooks.

Services receive a session and only flush. The request wrapper (or a CLI command or job via
`transaction()`) commits once, or rolls back on any error, so a request's changes land whole
or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from credithub.db import wal
from credithub.db.engine import Speed, make_engine, write_intent


class Database:
    """Per-app engine and a session per application context; with a read replica, a second
    engine and a read session for the reads that may go there (`read_engine`, `read_session`).
    """

    def init_app(
        self,
        app: Flask,
        url: str,
        echo: bool = False,
        pool_size: int = 5,
        speed: Speed | None = None,
        replica_url: str = "",
    ) -> None:
        engine = make_engine(url, echo=echo, pool_size=pool_size, speed=speed)
        replica = make_engine(replica_url, echo, pool_size, speed) if replica_url else None
        app.extensions["credithub.db"] = (
            engine,
            sessionmaker(engine, expire_on_commit=False),
            replica,
            sessionmaker(replica, expire_on_commit=False) if replica is not None else None,
        )
        app.teardown_appcontext(self._teardown)

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["credithub.db"][0]
        return engine

    @property
    def read_engine(self) -> Engine:
        """The engine of reads that may be served by the replica (`database.replica_url`):
        screening, the public profile and search, the feed. The primary without a replica."""
        engine: Engine = current_app.extensions["credithub.db"][2] or self.engine
        return engine

    @property
    def read_session(self) -> Session:
        """The session for those reads: on the replica if there is one (it never writes, and is
        closed with the application context), else the one session (`session`)."""
        factory: sessionmaker[Session] | None = current_app.extensions["credithub.db"][3]
        if factory is None:
            return self.session
        session: Session | None = g.get("_db_read_session")
        if session is None:
            session = g._db_read_session = factory()
        return session

    def dispose(self) -> None:
        """Close the pooled connections of both engines (before a fork, at the end)."""
        engine, _, replica, _ = current_app.extensions["credithub.db"]
        engine.dispose()
        if replica is not None:
            replica.dispose()

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
            _end_reading(self.session)
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
        """Commit once at the end of the block, roll back on any error (CLI and jobs).

        A read the session made before the block is ended first, so that on SQLite the block
        begins with the write lock (waiting for it) rather than upgrading an older snapshot,
        which fails at once ("database is locked") if another process wrote since.
        """
        session = self.session
        _end_reading(session)
        token = write_intent.set(True)
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
        wal.checkpoints_apart(self.engine)

    def checkpoint(self) -> None:
        """SQLite: copy the committed log into the database file, waiting on no reader or
        writer (PASSIVE). No-op on other databases."""
        wal.checkpoint(self.engine, "PASSIVE")

    def truncate_log(self, over: int, patience: float = 5.0) -> None:
        """SQLite: if the log has grown past `over` bytes, copy it all and empty it (TRUNCATE),
        waiting up to `patience` seconds for another process's checkpoint. Call it between
        transactions while no other process writes: a log that is never wholly copied when a
        writer begins is never reused, and grows without end."""
        wal.truncate_log(self.engine, over, patience)

    def checkpoint_behind(self, over: int = wal.LOG_LIMIT) -> None:
        """SQLite, in a process that serves requests (after `checkpoints_apart`): a thread of
        this process copies the log after each commit, beside the next request, and empties it
        past `over` bytes. Before, the commit that took the log past 4 MiB copied it while its
        request waited (about a tenth of a push's time). No-op on other databases."""
        wal.checkpoint_behind(self.engine, over)

    def _teardown(self, _exc: BaseException | None) -> None:
        for name in ("_db_session", "_db_read_session"):
            session: Session | None = g.pop(name, None)
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


def _end_reading(session: Session) -> None:
    """End the session's transaction if it has only read: nothing is lost, and loaded objects
    stay usable (no expiry on commit)."""
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.commit()
