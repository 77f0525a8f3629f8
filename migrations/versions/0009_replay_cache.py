"""Replay keys: a request that has acted, kept until no copy of it could still be accepted.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replay_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_replay_keys")),
    )
    op.create_index(op.f("ix_replay_keys_expires_at"), "replay_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_replay_keys_expires_at"), table_name="replay_keys")
    op.drop_table("replay_keys")
