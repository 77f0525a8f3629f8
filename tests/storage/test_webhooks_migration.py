"""The webhook tables' migration: it adds them beside a ledger in use, and its downgrade drops
them and leaves the rest as it was, on each database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from storage.db import alembic_config, make_engine
from tests.storage.test_audit_migration import fresh_url

__all__ = ["fresh_url"]  # the fixture, shared with the audit chain's migration test
TABLES = {"webhook_events", "webhook_deliveries", "webhook_endpoints"}


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_webhook_tables_come_and_go_with_their_revision(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0015")
    before = tables(fresh_url)
    assert not TABLES & before
    command.upgrade(cfg, "0016")
    assert tables(fresh_url) == before | TABLES
    engine = make_engine(fresh_url)
    with engine.begin() as conn:  # the delivery goes with its event
        conn.execute(
            sa.text(
                "INSERT INTO webhook_events (event_id, dedup_key, type, created_at, body, "
                "fanned_out) VALUES ('evt_1', 'k', 'requested', CURRENT_TIMESTAMP, '{}', true)"
            )
        )
        deliver = sa.text(
            "INSERT INTO webhook_deliveries (event_id, endpoint, status, attempts, "
            "next_attempt_at) SELECT id, 'hook', 'pending', 0, CURRENT_TIMESTAMP "
            "FROM webhook_events"
        )
        conn.execute(deliver)
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(deliver)  # one delivery per event and endpoint
        conn.execute(sa.text("DELETE FROM webhook_events"))
        assert conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar() == 0
    engine.dispose()
    command.downgrade(cfg, "0015")
    assert tables(fresh_url) == before
    command.upgrade(cfg, "head")
    assert tables(fresh_url) >= TABLES
