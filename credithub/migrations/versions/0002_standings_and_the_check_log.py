"""standings and the check log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:03:12.355557
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("asked_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=True),
        sa.Column("domain", sa.String(length=24), nullable=False),
        sa.Column("as_of", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("subject_code", sa.String(length=40), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
    )
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checks_asked_at"), ["asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checks_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "standings",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("computed_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("pack_digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_standings_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_standings")),
    )
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standings_valid_until"), ["valid_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standings_valid_until"))

    op.drop_table("standings")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checks_subject_id"))
        batch_op.drop_index(batch_op.f("ix_checks_asked_at"))

    op.drop_table("checks")
