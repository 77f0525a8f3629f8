"""Recurring series (each occurrence a window) and blackout periods; blackout overrides.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("environments", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.Column("removed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blackouts")),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("environments", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ticket", sa.String(length=200), nullable=True),
        sa.Column("requested_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("dtstart", sa.String(length=19), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("ends_wall", sa.String(length=5), nullable=True),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("edited_by", sa.String(length=64), nullable=True),
        sa.Column("override_by", sa.String(length=64), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_series_state"), ["state"], unique=False)

    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("occurrence_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("override_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("overridden", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_windows_series_id"), ["series_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_windows_series_id_occurrence_on"), ["series_id", "occurrence_on"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_windows_series_id_series"), "series", ["series_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_windows_series_id_series"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_windows_series_id_occurrence_on"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_windows_series_id"))
        batch_op.drop_column("overridden")
        batch_op.drop_column("override_reason")
        batch_op.drop_column("override_by")
        batch_op.drop_column("occurrence_on")
        batch_op.drop_column("series_id")

    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_state"))

    op.drop_table("series")
    op.drop_table("blackouts")
