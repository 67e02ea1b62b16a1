"""Webhooks, their events (the outbox), each delivery attempt, and who watches which subject."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credithub.db import Base, UtcDateTime, new_id, utcnow
from credithub.standing.models import BigId

EVENT_TYPES = ("check.changed", "objection.updated", "repair.updated")


class Webhook(Base):
    """A receiver a client registered: where to send which events, and the key to sign them."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret, encrypted with the hub's data key (shown to the client once).
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookEvent(Base):
    """One event for one webhook (the outbox), written in the transaction of its cause.

    Its id is the `webhook-id` of every attempt; `body` is the JSON sent, fixed when written."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "next_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # pending (due at next_at) | delivered | failed (given up after the last retry)
    status: Mapped[str] = mapped_column(String(12))
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookAttempt(Base):
    """One try to deliver an event: when, what came back (a status or an error), how long."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


class Watch(Base):
    """A client checked a subject in a domain, last at `checked_at`: who hears `check.changed`.

    Kept beside the check log (which has no subject index, on purpose) by the same writer, one
    row per (subject, client, domain) however often it is checked. `subject_key`: the USCC of
    an organization; a person's federation hash (or this hub's lookup hash without one)."""

    __tablename__ = "watches"

    subject_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    domain: Mapped[str] = mapped_column(String(24), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
