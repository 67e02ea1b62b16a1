"""objections, credit repairs and their steps

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 08:00:00.000000

`objections` (异议) and `repairs` (信用修复), each with its record, the record's deciding
authority (a department's queue) and the day its pending step is due; `workflow_steps` keeps
every step of either with who took it and when (`credithub.workflows`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("authority_uscc", sa.String(length=18), nullable=False),
        sa.Column("applicant", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("prior_status", sa.String(length=12), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_objections_record_id", "objections", ["record_id"])
    op.create_index("ix_objections_authority_status", "objections", ["authority_uscc", "status"])
    op.create_index("ix_objections_status_due", "objections", ["status", "due_on"])
    op.create_table(
        "repairs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("authority_uscc", sa.String(length=18), nullable=False),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_repairs_record_id", "repairs", ["record_id"])
    op.create_index("ix_repairs_authority_status", "repairs", ["authority_uscc", "status"])
    op.create_index("ix_repairs_status_due", "repairs", ["status", "due_on"])
    op.create_table(
        "workflow_steps",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("item_type", sa.String(length=12), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_workflow_steps_item", "workflow_steps", ["item_id", "at"])


def downgrade() -> None:
    op.drop_table("workflow_steps")
    op.drop_table("repairs")
    op.drop_table("objections")
