"""standings left to settle after a series of batches

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:00:00.000000

`standings_due` lists the subjects whose standings a write of a series (a pull's pages, a push
sent with `more`) left to be settled once when the series ends (`credithub.standing.deferred`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standings_due",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subject_id"),
    )


def downgrade() -> None:
    op.drop_table("standings_due")
