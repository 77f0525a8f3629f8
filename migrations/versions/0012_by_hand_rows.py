"""A window's environment switched by hand, whatever its driver (a write was refused).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("window_environments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("by_hand", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("window_environments", schema=None) as batch_op:
        batch_op.drop_column("by_hand")
