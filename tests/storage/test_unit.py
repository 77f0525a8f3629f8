"""What a transaction keeps for itself: windows stay loaded and held rows are not locked again,
and all of it is forgotten when the transaction ends (on SQLite and PostgreSQL)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from storage import audit, windows
from storage.models import AuditEvent, Window
from tests.storage.ledgers import T0, add_window, window_row


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def test_a_window_read_in_a_transaction_stays_loaded_until_it_ends(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        window_id = add_window(s, "active", ("prod", "staging"), T0)
    session = sessions()
    with session.begin():
        window = windows.get_window(session, window_id, lock=True)
        assert window is not None and window.environment_names == ["prod", "staging"]
        del window
        gc.collect()
        with statements(engine_of(sessions)) as seen:
            again = session.get(Window, window_id)  # what the Activity comment's text reads
        assert again is not None and seen == []
        del again
    assert not any(key.startswith(("ledger_", "audit_")) for key in session.info)
    with session.begin():
        gc.collect()
        with statements(engine_of(sessions)) as seen:
            assert session.get(Window, window_id) is not None
        assert len(seen) >= 1  # a new transaction reads it afresh
        windows.get_window(session, window_id)
        session.rollback()
    assert not any(key.startswith(("ledger_", "audit_")) for key in session.info)
    session.close()


def test_the_audit_trail_locks_only_the_windows_its_transaction_does_not_hold(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        locked = add_window(s, "active", ("prod",), T0)
        other = add_window(s, "active", ("staging",), T0)
    postgres = engine_of(sessions).dialect.name == "postgresql"
    with statements(engine_of(sessions)) as seen, sessions.begin() as s:
        windows.get_window(s, locked, lock=True)
        audit.add(s, at=T0, actor="U1", action="probe", window_id=locked)
    assert not any("KEY SHARE" in q for q in seen)  # the window is locked for update already
    with statements(engine_of(sessions)) as seen, sessions.begin() as s:
        audit.add(s, at=T0, actor="U1", action="probe", window_id=other)
    shares = [q for q in seen if q.endswith("FOR KEY SHARE")]
    assert len(shares) == (1 if postgres else 0)  # what the foreign key check takes, first
    with statements(engine_of(sessions)) as seen, sessions.begin() as s:
        new = windows.insert_window(s, window_row("requested", ("prod",), None))
        audit.add(s, at=T0, actor="U1", action="requested", window_id=new.id)
    assert not any("KEY SHARE" in q for q in seen)  # inserted by this transaction


def test_events_staged_in_a_transaction_that_rolls_back_are_not_appended_by_the_next(
    sessions: sessionmaker[Session],
) -> None:
    session = sessions()
    with session.begin():
        audit.add(session, at=T0, actor="U1", action="undone")
        session.rollback()
    with session.begin():
        audit.add(session, at=T0, actor="U1", action="kept")
    session.close()
    with sessions.begin() as s:
        assert s.scalars(select(AuditEvent.action)).all() == ["kept"]
