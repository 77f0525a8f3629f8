"""The migration that records change times gives series edited before it their last edit's
time, from the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from storage import audit
from storage.db import alembic_config, make_engine, make_sessions
from storage.types import UTCDateTime
from tests.storage.test_audit import T0
from tests.storage.test_audit_migration import fresh_url

__all__ = ["fresh_url"]  # the fixture, shared with the audit chain's migration test

SERIES = sa.table(
    "series",
    sa.column("id", sa.Integer()),
    sa.column("state", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("requester_id", sa.String()),
    sa.column("environments", sa.JSON()),
    sa.column("reason", sa.Text()),
    sa.column("requested_at", UTCDateTime()),
    sa.column("rule", sa.String()),
    sa.column("dtstart", sa.String()),
    sa.column("time_zone", sa.String()),
    sa.column("duration_seconds", sa.Integer()),
    sa.column("skipped", sa.JSON()),
    sa.column("overridden", sa.JSON()),
    sa.column("edited_by", sa.String()),
)


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_series_edited_before_the_migration_gets_its_last_edit_time(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0008")
    engine = make_engine(fresh_url)
    common = {
        "state": "approved",
        "version": 1,
        "requester_id": "U1",
        "environments": ["prod"],
        "reason": "",
        "requested_at": T0,
        "rule": "FREQ=WEEKLY;BYDAY=SA",
        "dtstart": "2026-12-05T02:30",
        "time_zone": "America/New_York",
        "duration_seconds": 3600,
        "skipped": [],
        "overridden": [],
    }
    with engine.begin() as conn:
        for number, editor in ((1, "U2"), (12, "U3"), (2, None)):
            conn.execute(SERIES.insert().values(id=number, edited_by=editor, **common))
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        for minutes, number in ((1, 1), (2, 12), (3, 1), (4, 12), (5, 2)):
            action = "series_edited" if number != 2 else "series_approved"
            detail = f"S-{number}: every Saturday at 02:30 for 1h -> every Saturday at 03:00"
            audit.add(
                session,
                at=T0 + timedelta(minutes=minutes),
                actor="U2",
                action=action,
                detail=detail,
            )
    command.upgrade(cfg, "head")
    edited_at = sa.table(
        "series", sa.column("id", sa.Integer()), sa.column("edited_at", UTCDateTime())
    )
    with engine.begin() as conn:
        edited = dict(conn.execute(sa.select(edited_at.c.id, edited_at.c.edited_at)).all())
    assert edited == {1: T0 + timedelta(minutes=3), 2: None, 12: T0 + timedelta(minutes=4)}
    command.downgrade(cfg, "0008")
    command.upgrade(cfg, "head")
    engine.dispose()
