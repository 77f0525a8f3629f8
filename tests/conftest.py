"""Shared test fixtures: a network guard, real databases built from the migrations."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_sessions, upgrade
from tests.tamper import empty_postgres

# `pytest --quick`, the inner loop (make check); pytester tests it (tests/test_quick.py).
pytest_plugins = ["tests.quick", "pytester"]

PG_BASE_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"

_real_connect = socket.socket.connect


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # a unix socket
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Fail any attempt to connect beyond the loopback interface."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


def _postgres_reachable() -> str | None:
    engine = make_engine(PG_BASE_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, migrated to head once, dropped at the end."""
    problem = _postgres_reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {PG_BASE_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable ({problem})")
    schema = f"sis_maint_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_schema: str) -> Iterator[Engine]:
    """One engine on the session's schema, for emptying it between tests."""
    engine = make_engine(postgres_schema)
    yield engine
    engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    """Empty the ledger behind ``engine`` (tests.tamper.empty_postgres) for the next test."""
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                empty_postgres(conn)
            return
        except OperationalError as exc:
            # PostgreSQL's autovacuum may hold a table TRUNCATE needs: the loser of a deadlock
            # is rolled back, and trying again a moment later finds the way clear.
            if "deadlock" not in str(exc) or attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


_truncate_all = _empty_postgres  # the name other test modules import


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite always, PostgreSQL when reachable (required in CI)."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_schema")
    _empty_postgres(request.getfixturevalue("postgres_engine"))
    yield url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh ledger of each database (see database_url)."""
    engine = make_engine(database_url)
    yield make_sessions(engine)
    engine.dispose()
