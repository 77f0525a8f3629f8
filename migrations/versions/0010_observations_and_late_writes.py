"""What people had before a window: reads of idle environments, and how a baseline judged
them; schedule writes that may still reach Coursedog late.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("nightly", sa.Boolean(), nullable=False),
        sa.Column("realtime", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_observations")),
    )
    op.create_index(
        "ix_schedule_observations_environment_id",
        "schedule_observations",
        ["environment", "id"],
        unique=False,
    )
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("question", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("question_decided_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("remote_writes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_index(
        "ix_remote_writes_late",
        "remote_writes",
        ["environment", "late_until"],
        unique=False,
        sqlite_where=sa.text("late_until IS NOT NULL"),
        postgresql_where=sa.text("late_until IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_remote_writes_late",
        table_name="remote_writes",
        sqlite_where=sa.text("late_until IS NOT NULL"),
        postgresql_where=sa.text("late_until IS NOT NULL"),
    )
    with op.batch_alter_table("remote_writes", schema=None) as batch_op:
        batch_op.drop_column("late_until")
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.drop_column("question_decided_by")
        batch_op.drop_column("question")
        batch_op.drop_column("evidence")
    op.drop_index("ix_schedule_observations_environment_id", table_name="schedule_observations")
    op.drop_table("schedule_observations")
