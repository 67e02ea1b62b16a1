"""Records and their changes.

Every version of a record is a row in `record_changes`: that table is at once the record's
history and the hub's change log (the feed). Its `position` is assigned when the transaction
commits, under a lock, so positions follow commit order: a reader that has seen position N
never later finds a change with a smaller position appear.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credithub.db import Base, UtcDateTime, new_id, utcnow
from credithub.entities.models import Subject

BigId = BigInteger().with_variant(Integer, "sqlite")


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        # The natural key: the same key sent again is an update, never a second record.
        UniqueConstraint(
            "authority_uscc", "kind", "ref", "subject_id", name="uq_records_natural_key"
        ),
        UniqueConstraint("origin_hub", "origin_id", name="uq_records_origin"),
        Index("ix_records_subject_kind", "subject_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id"))
    legal_rep_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), index=True)
    authority_uscc: Mapped[str] = mapped_column(String(18))
    authority_name: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date] = mapped_column(Date)
    # Lifecycle state: active | disputed | repaired | revoked | expired. The expiry job stores
    # `expired` for this hub's records whose term has ended; until it has, reading derives it
    # from `ends_on` (records.read.effective_status).
    status: Mapped[str] = mapped_column(String(12), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    severity: Mapped[str | None] = mapped_column(String(8))
    publish_until: Mapped[date | None] = mapped_column(Date)
    code: Mapped[str | None] = mapped_column(String(64))  # misconduct / list / commendation code
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # when the record stops counting by itself
    domains: Mapped[list[str]] = mapped_column(JSON)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the record as sent, normalised
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the 双公示 row as received
    origin_hub: Mapped[str] = mapped_column(String(64))
    origin_id: Mapped[str] = mapped_column(String(64))
    origin_version: Mapped[int] = mapped_column(Integer)
    received_from: Mapped[str | None] = mapped_column(String(100))  # client or connector name
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(120))

    subject: Mapped[Subject] = relationship(foreign_keys=[subject_id])
    legal_rep: Mapped[Subject | None] = relationship(foreign_keys=[legal_rep_id])


class RecordChange(Base):
    """One version of one record: history, and an entry of the change log."""

    __tablename__ = "record_changes"
    __table_args__ = (UniqueConstraint("record_id", "version", name="uq_record_changes_version"),)

    position: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    # Indexed by the (record_id, version) unique constraint.
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"))
    version: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(12))  # upsert | revoke | repair | expire
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    origin_hub: Mapped[str] = mapped_column(String(64))  # a feed never sends a change back here
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # the record as it was at this version
    # The origin's signature of a version received from another hub (credithub.trust), passed
    # on untouched; none for a version this hub signs itself when it serves it.
    signed_by: Mapped[str | None] = mapped_column(String(16))  # key id
    signature: Mapped[str | None] = mapped_column(String(88))  # base64


class ChangeHead(Base):
    """One row: the last change-log position. Locked while a transaction assigns positions."""

    __tablename__ = "change_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)


class AuthorityOrigin(Base):
    """The origin hub an authority belongs to: the first origin seen for it (records created
    here: this hub). A record naming the authority with another origin is refused."""

    __tablename__ = "authority_origins"

    authority_uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    origin_hub: Mapped[str] = mapped_column(String(64))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)


def content_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record row's content; a row about to be written carries it encoded (`JsonText`)."""
    content = row["content"]
    found: dict[str, Any] = orjson.loads(str(content)) if isinstance(content, str) else content
    return found
