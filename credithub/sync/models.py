"""Per-connector sync state and the dead-letter list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class SyncState(Base):
    """Where a connector stands. The change log is the push outbox: it is written in the same
    transaction as every change, and each connector drains it from its own committed position."""

    __tablename__ = "sync_state"

    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    push_position: Mapped[int] = mapped_column(BigInteger, default=0)  # last change handled
    pull_cursor: Mapped[str | None] = mapped_column(String(200))  # the platform's own cursor
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # freshness of the source
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, for backoff
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # no attempt before this
    # The last reconciliation's result (credithub.sync.reconcile.Result.to_dict).
    last_reconcile: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DeadLetter(Base):
    """A change a connector could not deliver after all retries; inspect and replay."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connector: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(4))  # push | pull
    position: Mapped[int] = mapped_column(BigInteger)  # our change log (push), their feed (pull)
    record_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
