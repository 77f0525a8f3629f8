"""When a series was last edited, and since when each blackout period of the configuration
file has been as it is: the calendar feed's change times.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(
            sa.Column("edited_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # A series edited before this revision: its last edit is in the audit trail, whose
    # detail starts with the series' number ("S-3: every ... -> every ...").
    op.execute(
        "UPDATE series SET edited_at = ("
        " SELECT max(a.at) FROM audit_events a"
        " WHERE a.action = 'series_edited' AND a.detail LIKE 'S-' || series.id || ': %'"
        ") WHERE edited_by IS NOT NULL"
    )
    op.create_table(
        "configured_blackouts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_configured_blackouts")),
    )


def downgrade() -> None:
    op.drop_table("configured_blackouts")
    with op.batch_alter_table("series") as batch:
        batch.drop_column("edited_at")
