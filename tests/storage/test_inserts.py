"""The request path's inserts, on SQLite and PostgreSQL: a window written in two statements
holds what the ORM would have written, and an insert that skips a taken key is built once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import windows
from storage.dialect_insert import insert_new
from storage.models import DueAction, SlackNotice, Window, WindowEnvironment
from tests.storage.ledgers import T0, add_window, window_row


def _columns(window: Window) -> dict[str, object]:
    return {c.key: getattr(window, c.key) for c in Window.__table__.columns if c.key != "id"}


def _environments(session: Session, window_id: int) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(
            WindowEnvironment.environment,
            WindowEnvironment.position,
            WindowEnvironment.status,
            WindowEnvironment.detail,
        )
        .where(WindowEnvironment.window_id == window_id)
        .order_by(WindowEnvironment.position)
    )
    return [tuple(row) for row in rows]


def test_a_window_inserted_in_two_statements_holds_what_the_orm_would_have_written(
    sessions: sessionmaker[Session],
) -> None:
    fields = {"reason": "Banner patch", "ticket": "CHG-1", "override_by": "U2"}
    with sessions.begin() as s:
        by_orm = add_window(s, "requested", ("prod", "test"), T0, **fields)
        window = windows.insert_window(s, window_row("requested", ("prod", "test"), T0, **fields))
        assert window.id > by_orm  # it has its number inside the transaction
        assert window not in s  # and stays out of the session
    with sessions.begin() as s:
        orm, core = s.get(Window, by_orm), s.get(Window, window.id)
        assert orm is not None and core is not None
        assert _columns(core) == _columns(orm)
        assert core.version == 1
        written = _environments(s, window.id)
        assert written == _environments(s, by_orm)
        assert written == [("prod", 0, "pending", None), ("test", 1, "pending", None)]


def test_environments_that_set_different_columns_go_in_together_each_at_its_defaults(
    sessions: sessionmaker[Session],
) -> None:
    window = window_row("requested", ("prod", "test"), T0)
    window.environments[0].detail = "left off by hand"
    window.environments[1].status = "off"
    with sessions.begin() as s:
        windows.insert_window(s, window)
    with sessions.begin() as s:
        written = _environments(s, window.id)
    assert written == [("prod", 0, "pending", "left off by hand"), ("test", 1, "off", None)]


def test_later_changes_to_an_inserted_window_are_not_saved_and_a_loaded_one_updates(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        window = windows.insert_window(s, window_row("requested", ("prod",), T0))
        window.state = "denied"  # out of the session: not written
    with sessions.begin() as s:
        loaded = s.get(Window, window.id)
        assert loaded is not None and loaded.state == "requested"
        loaded.state = "approved"  # the version counter starts where the ORM's would
    with sessions.begin() as s:
        again = s.get(Window, window.id)
        assert again is not None and (again.state, again.version) == ("approved", 2)


def test_an_insert_that_skips_a_taken_key_is_built_once_per_database_and_table(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        stmt = insert_new(s, SlackNotice, "dedup_key", returning="id")
        assert insert_new(s, SlackNotice, "dedup_key", returning="id") is stmt
        assert insert_new(s, DueAction, "dedup_key", returning="id") is not stmt
        row = {"dedup_key": "card:1", "channel": "C1", "thread_ts": None, "created_at": T0}
        first = s.scalar(stmt, row)
        taken = s.scalar(stmt, {**row, "channel": "C2"})
        kept = s.execute(select(SlackNotice.dedup_key, SlackNotice.channel)).all()
    assert first is not None and taken is None
    assert kept == [("card:1", "C1")]
