"""Changing the audit trail behind the bot's back, as someone with the database's keys could."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import make_engine


def tamper(url: str, statement: str) -> None:
    """Run ``statement`` on audit_events with its append-only triggers out of the way."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
                conn.execute(text(statement))
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER audit_events_no_update"))
                conn.execute(text("DROP TRIGGER audit_events_no_delete"))
                conn.execute(text(statement))
    finally:
        engine.dispose()
