"""Changing the audit trail behind the bot's back, as someone with the database's keys could."""

from __future__ import annotations

from sqlalchemy import Connection, delete, text
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
    examples of a property test): see ``empty_postgres``; on SQLite the audit trail's triggers
    are set aside for the deletion and put back as they were."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if session.get_bind().dialect.name == "postgresql":
        empty_postgres(session.connection())
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


_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]
# Which tables hold rows, in one round trip: a test or an example touches a few.
_HOLDING_ROWS = text(
    " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in _TABLES)
)
_USED_SEQUENCES = text(
    "SELECT sequencename FROM pg_sequences"
    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)


def empty_postgres(conn: Connection) -> None:
    """Delete every row of a PostgreSQL ledger, the audit trail's included, and restart every
    id, in the transaction ``conn`` is in.

    Deleting the few rows a test leaves takes milliseconds where TRUNCATE of every table takes
    a tenth of a second or more (it gives each table new files). The audit trail's triggers
    refuse deletes: a superuser sets every trigger aside for the transaction; anyone else
    truncates (row triggers do not see TRUNCATE).
    """
    if conn.execute(text("SHOW is_superuser")).scalar() != "on":
        names = ", ".join(f'"{name}"' for name in _TABLES)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    dirty = conn.execute(_HOLDING_ROWS).scalars().all()
    if dirty:
        # Replica mode fires no triggers, foreign keys' included: the order is free.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in dirty:
            conn.execute(text(f'DELETE FROM "{name}"'))
        conn.execute(text("SET LOCAL session_replication_role = origin"))
    for sequence in conn.execute(_USED_SEQUENCES).scalars().all():
        conn.execute(text("SELECT setval(:s, 1, false)"), {"s": f'"{sequence}"'})
