"""webhooks, their outbox and attempts, and who watches which subject

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:00:00.000000

`webhooks` are clients' receivers (secret encrypted with the data key); `webhook_events` is the
outbox events are written to in the transaction of their cause, `webhook_attempts` each try
to deliver one. `watches` (subject key, client, domain, last checked) is kept beside the check
log by its writer: who hears `check.changed` (credithub.webhooks).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_webhooks_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_client_id"), "webhooks", ["client_id"], unique=False)
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("next_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_events_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    op.create_index("ix_webhook_events_due", "webhook_events", ["status", "next_at"], unique=False)
    op.create_index(
        op.f("ix_webhook_events_webhook_id"), "webhook_events", ["webhook_id"], unique=False
    )
    op.create_table(
        "webhook_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_webhook_attempts_event_id_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_webhook_attempts_event_id"), "webhook_attempts", ["event_id"], unique=False
    )
    op.create_table(
        "watches",
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=24), nullable=False),
        sa.Column("checked_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_key", "client", "domain", name=op.f("pk_watches")),
    )
    op.create_index(op.f("ix_watches_checked_at"), "watches", ["checked_at"], unique=False)


def downgrade() -> None:
    op.drop_table("watches")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_events")
    op.drop_table("webhooks")
