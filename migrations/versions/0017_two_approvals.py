"""Windows that need more than one approver: who has approved so far, and how many must.

Existing windows had one approval rule: they need one, and one that was decided was approved
by ``decided_by`` (a denial is no approval), which is what their ``approved_by`` becomes.

Revision ID: 0017
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WINDOWS = sa.table(
    "windows",
    sa.column("id", sa.Integer()),
    sa.column("state", sa.String()),
    sa.column("decided_by", sa.String()),
    sa.column("approved_by", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("windows") as batch:
        batch.add_column(
            sa.Column("approved_by", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch.add_column(
            sa.Column(
                "approvals_required", sa.Integer(), server_default=sa.text("1"), nullable=False
            )
        )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_WINDOWS.c.id, _WINDOWS.c.decided_by).where(
            _WINDOWS.c.decided_by.is_not(None), _WINDOWS.c.state != "denied"
        )
    ).all()
    for window_id, decided_by in rows:
        connection.execute(
            _WINDOWS.update().where(_WINDOWS.c.id == window_id).values(approved_by=[decided_by])
        )


def downgrade() -> None:
    with op.batch_alter_table("windows") as batch:
        batch.drop_column("approvals_required")
        batch.drop_column("approved_by")
