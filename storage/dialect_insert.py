"""``INSERT`` statements that can say ``ON CONFLICT DO NOTHING`` on either database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert(session: Session, entity: Any) -> postgresql.Insert | sqlite.Insert:
    """An insert into ``entity`` in the dialect of the session's database, so that a duplicate
    key can be skipped in the same statement (no savepoint, no error)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)
