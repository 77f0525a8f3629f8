"""``INSERT`` statements that can say ``ON CONFLICT DO NOTHING`` on either database."""

from __future__ import annotations

from functools import cache
from typing import cast

from sqlalchemy import Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session


def insert_new(
    session: Session, entity: type[DeclarativeBase], key: str, returning: str | None = None
) -> Executable:
    """``INSERT INTO <entity's table> ... ON CONFLICT (key) DO NOTHING [RETURNING returning]``:
    a row whose key is taken already is skipped. Execute it with the row's values as parameters.

    Built once per database kind and table, and on the table rather than its mapped class: the
    paths that insert this way (a request, a claim) then spend nothing on building the
    statement or on the ORM's bulk machinery, which made up about half of each insert's cost.
    """
    return _insert_new(session.get_bind().dialect.name, entity, key, returning)


@cache
def _insert_new(
    dialect: str, entity: type[DeclarativeBase], key: str, returning: str | None
) -> Executable:
    table = cast(Table, entity.__table__)
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = stmt.on_conflict_do_nothing(index_elements=[table.c[key]])
    return stmt.returning(table.c[returning]) if returning is not None else stmt
