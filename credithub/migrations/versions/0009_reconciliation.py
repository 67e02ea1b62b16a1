"""reconciliation: each connector's last result; records' origin columns by month

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-25 10:00:00.000000

`sync_state.last_reconcile` keeps what the last reconciliation with a partner found. The index
on records (origin hub, origin id, origin version, decision date) holds everything a summary
cell is made of, so the summary and one cell's keys are read from it alone. It is led by the
origin key, not the date, so a batch's new records are appended to it (ids at an origin grow
with time) rather than scattered over it by their decision dates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_reconcile", sa.JSON(), nullable=True))
    op.create_index(
        "ix_records_origin_month",
        "records",
        ["origin_hub", "origin_id", "origin_version", "decided_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_records_origin_month", table_name="records")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("last_reconcile")
