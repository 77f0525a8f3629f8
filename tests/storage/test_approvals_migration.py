"""The migration that counts approvals: windows and series decided before it were approved by
the one who decided them (a denial approves nothing), and each needed one approval."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from storage.db import alembic_config, make_engine
from storage.types import UTCDateTime
from tests.storage.test_audit import T0
from tests.storage.test_audit_migration import fresh_url

__all__ = ["fresh_url"]

WINDOWS = sa.table(
    "windows",
    sa.column("id", sa.Integer()),
    sa.column("state", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("requester_id", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("requested_at", UTCDateTime()),
    sa.column("duration_seconds", sa.Integer()),
    sa.column("time_zone", sa.String()),
    sa.column("decided_by", sa.String()),
)
BEFORE = [(1, "requested", None), (2, "active", "U0APPROVE1"), (3, "denied", "U0APPROVE2")]


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_windows_decided_before_the_migration_were_approved_by_their_decider(
    fresh_url: str,
) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0016")
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        for number, state, decided_by in BEFORE:
            conn.execute(
                WINDOWS.insert().values(
                    id=number,
                    state=state,
                    version=1,
                    requester_id="U0REQUEST1",
                    reason="",
                    requested_at=T0,
                    duration_seconds=3600,
                    time_zone="UTC",
                    decided_by=decided_by,
                )
            )
    command.upgrade(cfg, "head")
    counted = sa.table(
        "windows",
        sa.column("id", sa.Integer()),
        sa.column("approved_by", sa.JSON()),
        sa.column("approvals_required", sa.Integer()),
    )
    with engine.begin() as conn:
        rows = conn.execute(sa.select(counted).order_by(counted.c.id)).all()
    assert [(r.approved_by, r.approvals_required) for r in rows] == [
        ([], 1),
        (["U0APPROVE1"], 1),
        ([], 1),
    ]
    command.downgrade(cfg, "0016")
    for table in ("windows", "series"):
        columns = {c["name"] for c in sa.inspect(engine).get_columns(table)}
        assert "approved_by" not in columns and "approvals_required" not in columns
    command.upgrade(cfg, "head")
    engine.dispose()
