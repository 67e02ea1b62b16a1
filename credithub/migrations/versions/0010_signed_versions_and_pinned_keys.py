"""signed versions and pinned keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:30:00.000000

A received record version keeps its origin's signature (`record_changes.signed_by`,
`signature`); `hub_keys` holds the keys pinned for other hubs (and this hub's former keys), and
`quarantined` the versions whose signature failed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.String(length=88), nullable=True))
    op.create_table(
        "hub_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hub", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("endorsed_by", sa.String(length=16), nullable=True),
        sa.Column("endorsement", sa.String(length=100), nullable=True),
        sa.Column("seen_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hub", "key_id", name="uq_hub_keys"),
    )
    op.create_table(
        "quarantined",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("origin_id", sa.String(length=64), nullable=False),
        sa.Column("origin_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("released_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quarantined_actor", "quarantined", ["actor"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_quarantined_actor", table_name="quarantined")
    op.drop_table("quarantined")
    op.drop_table("hub_keys")
    with op.batch_alter_table("record_changes", schema=None) as batch_op:
        batch_op.drop_column("signature")
        batch_op.drop_column("signed_by")
