"""Activity comments owed with the outcome they tell of, found by a partial index; a
window's remote writes found by the window.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_remote_writes_window_id", "remote_writes", ["window_id"], unique=False)
    op.create_index(
        "ix_remote_writes_owed",
        "remote_writes",
        ["environment"],
        unique=False,
        sqlite_where=sa.text("status = 'owed'"),
        postgresql_where=sa.text("status = 'owed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_remote_writes_owed", table_name="remote_writes")
    op.drop_index("ix_remote_writes_window_id", table_name="remote_writes")
