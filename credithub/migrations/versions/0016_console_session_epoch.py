"""console session epoch

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:20:00.000000

`console_accounts.session_epoch`: a console login's cookie carries the epoch it began in;
logging out or a new password moves it on, ending every session of the account on the server
side (a signed cookie alone cannot be withdrawn).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_accounts") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("console_accounts") as batch:
        batch.drop_column("session_epoch")
