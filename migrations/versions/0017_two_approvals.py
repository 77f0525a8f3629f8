"""Windows and series that need more than one approver: who has approved so far, and how
many must.

Existing windows and series had one approval rule: they need one, and one that was decided
was approved by ``decided_by`` (a denial is no approval), which is what their ``approved_by``
becomes.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("windows", "series")


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("id", sa.Integer()),
        sa.column("state", sa.String()),
        sa.column("decided_by", sa.String()),
        sa.column("approved_by", sa.JSON()),
    )


def upgrade() -> None:
    connection = op.get_bind()
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(
                sa.Column("approved_by", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
            )
            batch.add_column(
                sa.Column(
                    "approvals_required", sa.Integer(), server_default=sa.text("1"), nullable=False
                )
            )
        table = _table(name)
        rows = connection.execute(
            sa.select(table.c.id, table.c.decided_by).where(
                table.c.decided_by.is_not(None), table.c.state != "denied"
            )
        ).all()
        for row_id, decided_by in rows:
            connection.execute(
                table.update().where(table.c.id == row_id).values(approved_by=[decided_by])
            )


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("approvals_required")
            batch.drop_column("approved_by")
