"""Materialised standings and the log of every check answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class StandingRow(Base):
    """A subject's standing as last computed: one indexed read answers a check."""

    __tablename__ = "standings"

    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The next instant time alone changes the answer; the rescore job picks up what is due.
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    pack_digest: Mapped[str] = mapped_column(String(64))  # a rule-pack change makes it stale
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # Standing.to_dict()


class StandingDue(Base):
    """A subject whose stored standing a write left to be settled later (`standing.deferred`):
    until then its stored standing answers nothing and is computed on the spot when asked."""

    __tablename__ = "standings_due"

    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )


class CheckLog(Base):
    """One answered check: who asked, when, about whom, what they were told (digest)."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    client: Mapped[str] = mapped_column(String(100))
    batch: Mapped[str | None] = mapped_column(String(32))  # the request of a POST /check
    domain: Mapped[str] = mapped_column(String(24))
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    # Not indexed: nothing reads the log by subject, and each write would pay for it.
    subject_id: Mapped[str | None] = mapped_column(String(32))
    subject_code: Mapped[str] = mapped_column(String(40))  # USCC or masked ID number
    verdict: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical answer
