"""Each environment's write contract, learned from a recording of its Coursedog pages.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_contracts",
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("contract", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recording", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("learned_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("learned_by", sa.String(length=64), nullable=False),
        sa.Column("verified_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_host", sa.String(length=253), nullable=True),
        sa.Column("proof", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("environment", name=op.f("pk_write_contracts")),
    )


def downgrade() -> None:
    op.drop_table("write_contracts")
