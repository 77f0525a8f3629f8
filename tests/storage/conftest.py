"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_sessions


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh ledger of each database (see tests/conftest.py's database_url)."""
    engine = make_engine(database_url)
    yield make_sessions(engine)
    engine.dispose()
