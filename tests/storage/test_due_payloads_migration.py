"""The migration that gives due actions a payload column fills it for the actions already in
the ledger, from their dedup keys, as the code before it read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from bot.domain import due_payloads
from bot.domain.due_payloads import Materialise, MergeWatch, Nag, Notify
from storage.db import alembic_config, make_engine
from storage.types import UTCDateTime
from tests.storage.test_audit import T0
from tests.storage.test_audit_migration import fresh_url

__all__ = ["fresh_url"]  # the fixture, shared with the audit chain's migration test

ACTIONS = sa.table(
    "due_actions",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("due_at", UTCDateTime()),
    sa.column("status", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("lease_epoch", sa.Integer()),
    sa.column("dedup_key", sa.String()),
    sa.column("created_at", UTCDateTime()),
)
RESTORED = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
STAMP = int(RESTORED.timestamp())
# Actions as the code before the migration planned them: kind, dedup key, the payload the key
# held (as the handlers read it now).
BEFORE = [
    ("expire", "expire:4", {}),
    ("start", f"start:4:{STAMP}", {}),
    ("remind_before_end", f"remind_before_end:4:{STAMP}", {}),
    ("end", f"end:4:{STAMP}", {}),
    ("nag", f"nag:4:{STAMP}:3", due_payloads.write(Nag(3))),
    (
        "watch_merge",
        f"watch_merge:4:prod:{STAMP}:2",
        due_payloads.write(MergeWatch(4, "prod", RESTORED, 2)),
    ),
    (
        "materialise_series",
        f"materialise_series:12:{STAMP}:edit-3",
        due_payloads.write(Materialise(12)),
    ),
    (
        "notify_coursedog",
        "notice:4:approved:prod",
        due_payloads.write(Notify("notice:4:approved:prod")),
    ),
]


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_actions_planned_before_the_migration_carry_what_their_keys_held(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0013")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for number, (kind, key, _) in enumerate(BEFORE, start=1):
            conn.execute(
                ACTIONS.insert().values(
                    id=number,
                    kind=kind,
                    due_at=T0,
                    status="done" if number % 2 else "pending",
                    attempts=0,
                    lease_epoch=0,
                    dedup_key=key,
                    created_at=T0,
                )
            )
    command.upgrade(cfg, "head")
    carried = sa.table(
        "due_actions",
        sa.column("id", sa.Integer()),
        sa.column("dedup_key", sa.String()),
        sa.column("payload", sa.JSON()),
    )
    with engine.begin() as conn:
        rows = conn.execute(sa.select(carried).order_by(carried.c.id)).all()
    assert [(r.dedup_key, r.payload) for r in rows] == [(key, load) for _, key, load in BEFORE]
    # What the handlers read from them is what the keys said.
    by_key = {r.dedup_key: r.payload for r in rows}
    assert due_payloads.read(Nag, by_key[f"nag:4:{STAMP}:3"]).number == 3
    watch = due_payloads.read(MergeWatch, by_key[f"watch_merge:4:prod:{STAMP}:2"])
    assert watch == MergeWatch(4, "prod", RESTORED, 2)
    assert due_payloads.read(Materialise, by_key[f"materialise_series:12:{STAMP}:edit-3"]) == (
        Materialise(12)
    )
    command.downgrade(cfg, "0013")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("due_actions")}
    assert "payload" not in columns and "dedup_key" in columns
    command.upgrade(cfg, "head")
    engine.dispose()
