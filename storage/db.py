"""Engines, sessions and migrations for the ledger database."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import audit_chain, replay, unit
from storage.sqlite_writers import queued_connection_class

DEFAULT_DATABASE_URL = "sqlite:///sis-maint.db"
READ_ONLY = "sis_maint_read_only"  # an execution option and session flag: see reading()
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and immediate write transactions."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    busy_seconds = 30
    engine = create_engine(
        url,
        connect_args={"timeout": busy_seconds, "factory": queued_connection_class(busy_seconds)},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_seconds * 1000}")
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if connection.get_execution_options().get(READ_ONLY):
            # A reader takes no writer's turn: WAL gives it a snapshot beside the writer.
            dbapi_connection.execute("BEGIN")
        else:
            # Writers queue up front (on this process's lock, then SQLite's) instead of
            # failing on a read-to-write lock upgrade.
            dbapi_connection.begin_immediate()

    return engine


def make_sessions(engine: Engine, info: Mapping[str, Any] | None = None) -> sessionmaker[Session]:
    """A session factory; callers open units of work with ``with sessions.begin() as s``.
    ``info`` starts every session's ``info`` (what the process's configuration tells the
    code that writes in a transaction)."""
    sessions = sessionmaker(engine, expire_on_commit=False, info=dict(info or {}))
    audit_chain.install(sessions)
    unit.install(sessions)
    replay.install(sessions)
    event.listen(sessions, "before_flush", _refuse_writes_when_reading)
    return sessions


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads.

    On SQLite it does not wait for the writers' turn, and writers do not wait for it; it reads
    one consistent snapshot. Elsewhere it is an ordinary transaction. Changing an object in it
    is refused (a reader that started to write could find its snapshot already stale).
    """
    with sessions.begin() as session:
        session.info[READ_ONLY] = True
        session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
        finally:
            session.info.pop(READ_ONLY, None)


def _refuse_writes_when_reading(session: Session, *_flush_args: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read-only transaction tried to write; open a unit of work instead")


def alembic_config(url: str) -> Any:
    """An Alembic config pointing at this project's migrations and the given database."""
    from alembic.config import Config  # noqa: PLC0415 - only the CLI and tests need alembic

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command  # noqa: PLC0415

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
