"""A person's decision when the enabled saved state changed during a window.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("save_state_decision", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("save_state_decided_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.drop_column("save_state_decided_by")
        batch_op.drop_column("save_state_decision")
