"""Fresh ledgers for a benchmark: an SQLite file, or a PostgreSQL schema dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from storage.db import make_engine, upgrade
from storage.models import Base

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
KINDS = ("sqlite", "postgresql")


class DatabaseUnavailable(RuntimeError):
    """The PostgreSQL server of the benchmarks cannot be reached."""


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any failure means the same here
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_database(kind: str, *, migrate: bool = True) -> Iterator[str]:
    """A database URL migrated to head (unless ``migrate`` is false), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sis-maint-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
            if migrate:
                upgrade(url)
            yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r} (one of {', '.join(KINDS)})")
    problem = postgres_problem()
    if problem is not None:
        raise DatabaseUnavailable(f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
    schema = f"sis_maint_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def gather_statistics(engine: Engine, tables: Iterable[str] | None = None) -> None:
    """Fresh planner statistics on PostgreSQL, as autovacuum gathers them in service (it may
    be off on a benchmark machine), for ``tables`` (default: the ledger's), not for every
    schema's. SQLite ledgers get none: nothing in the bot runs ANALYZE there, so the planner
    works without statistics, as in service."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        for name in tables if tables is not None else Base.metadata.tables:
            conn.execute(text(f'ANALYZE "{name}"'))
        conn.commit()
