"""records and the change log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 11:36:50.246003
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
        "change_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_head")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("legal_rep_id", sa.String(length=32), nullable=True),
        sa.Column("authority_uscc", sa.String(length=18), nullable=False),
        sa.Column("authority_name", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("publish_until", sa.Date(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("origin_id", sa.String(length=64), nullable=False),
        sa.Column("origin_version", sa.Integer(), nullable=False),
        sa.Column("received_from", sa.String(length=100), nullable=True),
        sa.Column("created_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", credithub.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["legal_rep_id"], ["subjects.id"], name=op.f("fk_records_legal_rep_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_records_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "authority_uscc", "kind", "ref", "subject_id", name="uq_records_natural_key"
        ),
        sa.UniqueConstraint("origin_hub", "origin_id", name="uq_records_origin"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_legal_rep_id"), ["legal_rep_id"], unique=False)
        batch_op.create_index("ix_records_subject_kind", ["subject_id", "kind"], unique=False)

    op.create_table(
        "record_changes",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=12), nullable=False),
        sa.Column("at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_changes_record_id_records")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_record_changes")),
        sa.UniqueConstraint("record_id", "version", name="uq_record_changes_version"),
    )
    with op.batch_alter_table("record_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_changes_record_id"), ["record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("record_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_changes_record_id"))

    op.drop_table("record_changes")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_kind")
        batch_op.drop_index(batch_op.f("ix_records_legal_rep_id"))

    op.drop_table("records")
    op.drop_table("change_head")
