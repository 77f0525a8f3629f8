"""Alembic environment: the database is DATABASE_URL, else the configured URL."""

from __future__ import annotations

import os

from alembic import context

from storage.db import make_engine, normalize_url
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or ""
    if config.config_file_name is not None and os.environ.get("DATABASE_URL"):
        # Run from the alembic command line: honour the deployment's database.
        url = os.environ["DATABASE_URL"]
    return normalize_url(url)


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of applying it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a real connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            context.configure(
                connection=conn,
                target_metadata=target_metadata,
                render_as_batch=conn.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
