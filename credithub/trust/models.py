"""Pinned keys of other hubs, and record versions held back for a signature that failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime, utcnow


class HubKey(Base):
    """A hub's public key as this hub knows it: `pinned` (verifies that hub's records) or
    `pending` (presented, not trusted: an admin accepts it). This hub's own former keys are
    kept too, each later one with its endorsement by the one before (a rotation)."""

    __tablename__ = "hub_keys"
    __table_args__ = (UniqueConstraint("hub", "key_id", name="uq_hub_keys"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hub: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the 32 raw bytes
    state: Mapped[str] = mapped_column(String(8))  # pinned | pending
    source: Mapped[str] = mapped_column(String(200))  # how it came to be known
    # A rotation: the previous key's id and its signature over this key (forms.rotation_message).
    endorsed_by: Mapped[str | None] = mapped_column(String(16))
    endorsement: Mapped[str | None] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    accepted_by: Mapped[str | None] = mapped_column(String(120))


class Quarantined(Base):
    """A record version whose signature failed: kept as it arrived, never applied, until an
    admin releases it (it is checked again against the keys pinned then)."""

    __tablename__ = "quarantined"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), index=True)  # the client or connector
    origin_hub: Mapped[str] = mapped_column(String(64))
    origin_id: Mapped[str] = mapped_column(String(64))
    origin_version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # as it arrived
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
