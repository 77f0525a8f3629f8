"""Changing the audit trail behind the bot's back, as someone with the database's keys could."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from storage.db import make_engine
from storage.models import Base


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


def empty_ledger(session: Session) -> None:
    """Delete every row of every table, the append-only audit trail included (between the
    examples of a property test): TRUNCATE on PostgreSQL (row triggers do not fire), and on
    SQLite the audit trail's triggers are set aside for the deletion and put back as they were."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    triggers = session.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": "audit_events"},
    ).all()
    for name, _ in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    for table in tables:
        session.execute(delete(table))
    for _, sql in triggers:
        session.execute(text(sql))
