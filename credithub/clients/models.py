"""API clients (departments, consumers, peers, the joint office) and their hashed tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime, new_id, utcnow

KINDS = ("department", "consumer", "peer", "admin")

SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    "department": frozenset({"records:write", "records:read", "check"}),
    "consumer": frozenset({"check", "records:read"}),
    "peer": frozenset({"feed:read", "records:write"}),
    "admin": frozenset({"records:write", "records:read", "check", "feed:read", "admin"}),
}

# Any client at all: every kind holds one of these (endpoints open to every client).
ANY_SCOPE: tuple[str, ...] = tuple(sorted(frozenset().union(*SCOPES_BY_KIND.values())))


class Rights:
    """What a client may do follows from its kind (the stored client and its cached copy)."""

    kind: str

    @property
    def scopes(self) -> frozenset[str]:
        return SCOPES_BY_KIND[self.kind]

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


class Client(Rights, Base):
    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    uscc: Mapped[str | None] = mapped_column(String(18))
    # A peer's own hub id: the feed never sends a peer the records that came from it.
    hub: Mapped[str | None] = mapped_column(String(64))
    # The hubs a peer relays records of besides its own (a province for its cities): it may
    # send records whose origin is one of them (records.decide.refusal).
    relays_for: Mapped[list[str] | None] = mapped_column(JSON)
    # sha256 of the token: tokens are 256-bit random, so a fast hash is enough to make a
    # stolen table useless, and lookup stays one indexed read.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(12))  # first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
