"""persons' federation hash

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00.000000

A person travels between hubs as the masked ID number and a keyed hash under the federation's
matching key (`subjects.fed_hash`), never the number itself. The migration only adds the
column: it has no keys. `credithub init-db` then fills it for the persons already held.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subjects", sa.Column("fed_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_subjects_fed_hash", "subjects", ["fed_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_subjects_fed_hash", table_name="subjects")
    with op.batch_alter_table("subjects") as batch_op:
        batch_op.drop_column("fed_hash")
