"""What an API request with an Idempotency-Key answered, kept with its replay key.

A repeat of the request (a script retrying after a lost answer) is given the same answer
instead of a refusal. Existing keys have no answer: their repeats are refused as before.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("replay_keys") as batch:
        batch.add_column(sa.Column("answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replay_keys") as batch:
        batch.drop_column("answer")
