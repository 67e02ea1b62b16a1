"""the check log without its index on subject_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:00:00.000000

Nothing reads the check log by subject, and every write of it paid for the index: the ids are
random, so each row lands on a random page of it (on SQLite a third of the cost of writing a
log row, and of the time the write lock is held). A query that needs it can bring it back.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_checks_subject_id", table_name="checks")


def downgrade() -> None:
    op.create_index("ix_checks_subject_id", "checks", ["subject_id"], unique=False)
