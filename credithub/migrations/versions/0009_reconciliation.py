"""reconciliation: each connector's last result

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-25 10:00:00.000000

`sync_state.last_reconcile` keeps what the last reconciliation with a partner found. No index
is added for the summaries: they run once a day over the records, and every import and push
would pay for one on each record written (the origin's unique index serves a cell's keys).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_reconcile", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("last_reconcile")
