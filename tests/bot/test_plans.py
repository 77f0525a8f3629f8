"""A reconciler pass's plan (bot.services.plans) is one moment of the ledger, even on a database
whose transactions see each statement's own moment (PostgreSQL at READ COMMITTED; on SQLite,
which reads one snapshot per transaction, the test checks the outcome only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from bot.services.plans import read_plan
from bot.services.window_moves import end_window, load_window
from storage.db import reading
from storage.models import Window
from tests.ledger_rows import add_window

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def _active_on_prod(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as s:
        return add_window(s, "active", {"prod": "off"}, at=NOW)


def test_an_end_committed_while_the_plan_is_read_leaves_its_window_holding_or_waiting(
    sessions: sessionmaker[Session],
) -> None:
    window_id = _active_on_prod(sessions)
    engine = sessions.kw["bind"]
    ended: list[str] = []

    def end_between_statements(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        # Right after the plan's first look at the windows, another process ends the window.
        if ended or "FROM windows" not in statement:
            return
        ended.append(statement)
        with sessions.begin() as other:
            end_window(other, load_window(other, window_id), "U1", NOW)

    event.listen(engine, "after_cursor_execute", end_between_statements)
    try:
        with reading(sessions) as session:
            plan = read_plan(session, "prod", NOW)
    finally:
        event.remove(engine, "after_cursor_execute", end_between_statements)

    assert ended, "the window was never ended during the read"
    # Either moment is fine; both at once would hand the window over to itself and never
    # restore its environment.
    assert (plan.holding, plan.waiting) in {((window_id,), ()), ((), (window_id,))}
    with sessions.begin() as s:
        found = s.get(Window, window_id)
        assert found is not None and found.state == "ended"
