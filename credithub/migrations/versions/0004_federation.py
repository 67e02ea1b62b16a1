"""federation: peer hubs, sync state, dead letters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:34:19.711161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_connector"), ["connector"], unique=False)

    op.create_table(
        "sync_state",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("push_position", sa.BigInteger(), nullable=False),
        sa.Column("pull_cursor", sa.String(length=200), nullable=True),
        sa.Column("last_run_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_pull_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("connector", name=op.f("pk_sync_state")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("hub")

    op.drop_table("sync_state")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_connector"))

    op.drop_table("dead_letters")
