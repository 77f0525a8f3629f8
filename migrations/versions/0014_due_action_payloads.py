"""What a due action carries besides its window, in its own column instead of its dedup key.

Existing actions get the payload their key held, read as the code before this revision read
it: a nag's number (the key's last part), a merge watch's window, environment, restore time
and number, a series run's series (the second part), a notice's key (the whole key). Every
other kind carries an empty object. The keys stay as they are (still the uniqueness key), so
the downgrade only drops the column: the code before this revision reads the keys again.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS = sa.table(
    "due_actions",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("dedup_key", sa.String()),
    sa.column("payload", sa.JSON()),
)


def payload_of(kind: str, key: str) -> dict[str, Any]:
    """The payload an action of ``kind`` with dedup key ``key`` carries (frozen here: the
    keys as the code up to revision 0013 wrote them)."""
    if kind == "nag":
        return {"number": int(key.rsplit(":", 1)[1])}
    if kind == "watch_merge":
        _, window_id, environment, stamp, number = key.split(":")
        restored_at = datetime.fromtimestamp(int(stamp), UTC)
        return {
            "window_id": int(window_id),
            "environment": environment,
            "restored_at": restored_at.isoformat(),
            "number": int(number),
        }
    if kind == "materialise_series":
        return {"series_id": int(key.split(":")[1])}
    if kind == "notify_coursedog":
        return {"notice_key": key}
    return {}


def upgrade() -> None:
    with op.batch_alter_table("due_actions") as batch:
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    bind = op.get_bind()
    carrying = ("nag", "watch_merge", "materialise_series", "notify_coursedog")
    rows = bind.execute(
        sa.select(_ACTIONS.c.id, _ACTIONS.c.kind, _ACTIONS.c.dedup_key).where(
            _ACTIONS.c.kind.in_(carrying)
        )
    ).all()
    if rows:  # one statement, executed for every row
        bind.execute(
            _ACTIONS.update()
            .where(_ACTIONS.c.id == sa.bindparam("row_id"))
            .values(payload=sa.bindparam("row_payload", type_=sa.JSON())),
            [{"row_id": r.id, "row_payload": payload_of(r.kind, r.dedup_key)} for r in rows],
        )
    bind.execute(_ACTIONS.update().where(_ACTIONS.c.payload.is_(None)).values(payload={}))
    with op.batch_alter_table("due_actions") as batch:
        batch.alter_column("payload", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("due_actions") as batch:
        batch.drop_column("payload")
