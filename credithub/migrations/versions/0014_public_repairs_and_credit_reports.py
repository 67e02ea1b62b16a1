"""public repair applications and issued credit reports

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:30:00.000000

A repair filed from the public profile keeps who applied and how to reach them, like a public
objection (`repairs.applicant`, `contact`, `source`). `credit_reports` keeps what verifies a
printed credit report (信用报告): its number, the digest of its content, the subject and when
it was issued (`credithub.reports`), never the report itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch:
        batch.add_column(sa.Column("applicant", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("contact", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=12), nullable=True))
    op.create_table(
        "credit_reports",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("subject_uscc", sa.String(length=18), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_credit_reports_subject_uscc", "credit_reports", ["subject_uscc"])


def downgrade() -> None:
    op.drop_index("ix_credit_reports_subject_uscc", table_name="credit_reports")
    op.drop_table("credit_reports")
    with op.batch_alter_table("repairs") as batch:
        batch.drop_column("source")
        batch.drop_column("contact")
        batch.drop_column("applicant")
