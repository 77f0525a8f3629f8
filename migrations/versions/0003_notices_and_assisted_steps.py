"""Notices to Coursedog (emailed or drafted) and the steps of by-hand checklists.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assisted_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Boolean(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked", sa.String(length=16), nullable=True),
        sa.Column("found", sa.Boolean(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"], ["windows.id"], name=op.f("fk_assisted_steps_window_id_windows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assisted_steps")),
        sa.UniqueConstraint(
            "window_id",
            "environment",
            "phase",
            "step",
            name=op.f("uq_assisted_steps_window_id_environment_phase_step"),
        ),
    )
    with op.batch_alter_table("assisted_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assisted_steps_window_id"), ["window_id"], unique=False
        )

    op.create_table(
        "coursedog_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["window_id"], ["windows.id"], name=op.f("fk_coursedog_notices_window_id_windows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coursedog_notices")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_coursedog_notices_dedup_key")),
    )
    with op.batch_alter_table("coursedog_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coursedog_notices_window_id"), ["window_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("coursedog_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coursedog_notices_window_id"))

    op.drop_table("coursedog_notices")
    with op.batch_alter_table("assisted_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assisted_steps_window_id"))

    op.drop_table("assisted_steps")
