"""Indexes that find the present without walking the past.

The periodic passes ask for the rows still owed a restore (by status) and for each
environment's last watchdog report (the newest audit event of an action on an environment);
these indexes answer both in time that does not grow with the number of finished windows.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("window_environments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_window_environments_status_environment", ["status", "environment"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_environment_action_id",
            ["environment", "action", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_environment_action_id")
    with op.batch_alter_table("window_environments", schema=None) as batch_op:
        batch_op.drop_index("ix_window_environments_status_environment")
