"""The migration chains the events already there, and its downgrade removes chain and triggers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, make_engine, make_sessions
from storage.types import UTCDateTime
from tests.conftest import PG_BASE_URL
from tests.storage.test_audit import T0, add_events, verdict


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database, with nothing migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_schema")  # skips (or fails in CI) without PostgreSQL
    schema = f"sis_maint_fresh_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_migration_chains_existing_events_and_downgrades(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0004")
    engine = make_engine(fresh_url)
    before = sa.table(
        "audit_events",
        sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("detail", sa.Text()),
        sa.column("data", sa.JSON()),
    )
    with engine.begin() as conn:
        for n in range(5):
            row = {"at": T0 + timedelta(seconds=n), "detail": f"before {n}", "data": {"n": n}}
            conn.execute(before.insert().values(actor="U1", action="old", **row))
    command.upgrade(cfg, "head")
    sessions = make_sessions(engine)
    add_events(sessions, 2)
    result = verdict(sessions)
    assert result.ok and result.events == 7
    command.downgrade(cfg, "0004")
    with engine.begin() as conn:  # the triggers are gone with the chain
        conn.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = 1"))
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    command.upgrade(cfg, "head")
    result = verdict(sessions)
    assert result.ok and result.events == 6
    engine.dispose()
