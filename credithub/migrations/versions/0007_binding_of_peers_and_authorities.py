"""binding: the hubs a peer relays for, the origin hub of each authority, refusals listed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00.000000

A peer client may carry the hubs it relays for (`clients.relays_for`). Each authority belongs
to the first origin hub seen for it (`authority_origins`): filled here from the records already
held, each authority bound to the origin of its earliest record (records created here carry
this hub's id). Refused items are audit entries listed newest first by action.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import credithub.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relays_for", sa.JSON(), nullable=True))
    op.create_table(
        "authority_origins",
        sa.Column("authority_uscc", sa.String(length=18), nullable=False),
        sa.Column("origin_hub", sa.String(length=64), nullable=False),
        sa.Column("bound_at", credithub.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("authority_uscc", name=op.f("pk_authority_origins")),
    )
    op.execute(
        """
        INSERT INTO authority_origins (authority_uscc, origin_hub, bound_at)
        SELECT authority_uscc, origin_hub, created_at FROM (
            SELECT authority_uscc, origin_hub, created_at,
                   ROW_NUMBER() OVER (
                       PARTITION BY authority_uscc ORDER BY created_at, id
                   ) AS n
            FROM records
        ) AS earliest
        WHERE n = 1
        """
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_action_seq", ["action", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_action_seq")
    op.drop_table("authority_origins")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("relays_for")
