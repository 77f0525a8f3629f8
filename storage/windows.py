"""Windows, their environments' rows and their baselines: inserted, read and found by what
the periodic passes ask. Functions take the caller's session and never commit.

The questions the passes ask every few seconds find the present through indexes on state,
status or the held rows, so their cost does not grow with the number of finished windows
(tests/storage/test_query_plans.py holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    insert,
    literal_column,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session, joinedload

from storage import audit_chain, recurring, unit
from storage.models import Baseline, RemoteWrite, Window, WindowEnvironment, row_values
from storage.remote_writes import OWED

_LOADED = unit.transaction_key("ledger_windows_loaded")  # see get_window
_WINDOWS = cast(Table, Window.__table__)
_INSERT_WINDOW = insert(_WINDOWS).returning(_WINDOWS.c.id)
_INSERT_ENVIRONMENTS = insert(cast(Table, WindowEnvironment.__table__))


def insert_window(session: Session, window: Window) -> Window:
    """Insert a new window and its environments in two statements, now, so that it has its
    number; the object stays out of the session (later changes to it are not saved).

    Not through the ORM's unit of work: that was the largest single cost of a request.
    """
    window.version = 1  # what the ORM's version counter starts at
    window.id = session.execute(_INSERT_WINDOW, row_values(window)).scalar_one()
    for row in window.environments:
        row.window_id = window.id
    if window.environments:
        rows = [row_values(row) for row in window.environments]
        session.execute(_INSERT_ENVIRONMENTS, rows)
    audit_chain.holds(session, window.id)  # inserted here: no one else can touch its row
    return window


def get_window(session: Session, window_id: int, *, lock: bool = False) -> Window | None:
    """A window by number with its environments (one statement), optionally locked for update
    (the window's row; its environments are not locked)."""
    stmt = select(Window).where(Window.id == window_id).options(joinedload(Window.environments))
    if lock:
        # The lock first, then the read. On PostgreSQL a statement that waited for the row's
        # lock returns that row as it is now, but the rows it joins to it (the environments) as
        # they were when the statement began, before the commit it waited for. SQLite's writers
        # take turns from their first statement (storage.db): there is nothing to wait for.
        if session.get_bind().dialect.name == "postgresql":
            locked = select(Window.id).where(Window.id == window_id).with_for_update()
            if session.scalar(locked) is None:
                return None
        stmt = stmt.execution_options(populate_existing=True)
    window = session.scalars(stmt).unique().first()
    if window is not None:
        # Later steps of the transaction (the Activity comment an outcome owes, say) then
        # find it without reading it again.
        unit.keep(session, _LOADED, window, window.id)
        if lock:
            audit_chain.holds(session, window.id)
    return window


def windows_on(session: Session, environment: str, states: Iterable[str]) -> Sequence[Window]:
    """Windows in ``states`` that cover ``environment``, oldest first.

    Found by state, then checked for the environment: an environment's rows span its history.
    """
    stmt = select(Window).where(*_in_states_on(environment, states)).order_by(Window.id)
    return session.scalars(stmt).all()


def _in_states_on(environment: str, states: Iterable[str]) -> tuple[ColumnElement[bool], ...]:
    """Windows in ``states`` covering ``environment``: by state, then checked for the
    environment (an environment's rows span its history)."""
    return Window.state.in_(list(states)), recurring.covers([environment])


def _rows_in_statuses(environment: str, statuses: Iterable[str]) -> tuple[ColumnElement[bool], ...]:
    """Rows of ``environment`` in ``statuses`` (the status index)."""
    return (
        WindowEnvironment.environment == environment,
        WindowEnvironment.status.in_(list(statuses)),
    )


def holding_and_waiting(
    session: Session,
    environment: str,
    states: Iterable[str],
    statuses: Iterable[str],
    *,
    early: tuple[str, Iterable[str]] | None = None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The numbers of the windows in ``states`` that cover ``environment`` and of those whose
    row of it is in ``statuses``, each oldest first, read in one statement. ``early``: a
    window state and row statuses that count as holding too (a checklist opened early).

    One statement, one snapshot: on PostgreSQL each statement of a READ COMMITTED transaction
    sees what had committed when it began, so a window ended between two separate reads would
    be found both still holding and already waiting. Each half is what ``windows_on`` and
    ``window_environments`` ask, through the same index.
    """
    holds, waits = literal_column("1", Integer), literal_column("2", Integer)
    holding = select(holds.label("kind"), Window.id.label("window_id")).where(
        *_in_states_on(environment, states)
    )
    waiting = select(waits, WindowEnvironment.window_id).where(
        *_rows_in_statuses(environment, statuses)
    )
    parts = [holding, waiting]
    if early is not None:
        state, early_statuses = early
        parts.append(
            select(holds, WindowEnvironment.window_id)
            .join(Window, Window.id == WindowEnvironment.window_id)
            .where(*_rows_in_statuses(environment, early_statuses), Window.state == state)
        )
    found: dict[int, set[int]] = {1: set(), 2: set()}
    for kind, window_id in session.execute(union_all(*parts)):
        found[kind].add(window_id)
    return tuple(sorted(found[1])), tuple(sorted(found[2]))


def any_by_hand(session: Session, environment: str, window_ids: Sequence[int]) -> bool:
    """Whether a person switches ``environment`` by hand for any of these windows."""
    if not window_ids:
        return False
    stmt = select(WindowEnvironment.window_id).where(
        WindowEnvironment.environment == environment,
        WindowEnvironment.window_id.in_(list(window_ids)),
        WindowEnvironment.by_hand.is_(True),
    )
    return session.scalars(stmt.limit(1)).first() is not None


def window_environments(
    session: Session, environment: str, statuses: Iterable[str]
) -> Sequence[WindowEnvironment]:
    """The per-window rows of ``environment`` in the given statuses (by the status index)."""
    stmt = (
        select(WindowEnvironment)
        .where(*_rows_in_statuses(environment, statuses))
        .order_by(WindowEnvironment.window_id)
    )
    return session.scalars(stmt).all()


def environments_in_play(
    session: Session,
    window_states: Iterable[str],
    row_statuses: Iterable[str],
    now: datetime,
    *,
    early_status: str | None = None,
) -> set[str]:
    """Environments with a holding window, a pending restore, a held baseline, an owed
    Activity comment or a write that may still land.

    Five lookups, each through its own index (window state, row status, held baselines, owed
    comments, late writes).
    """
    holders = select(Window.id).where(Window.state.in_(list(window_states)))
    holding = select(WindowEnvironment.environment).where(WindowEnvironment.window_id.in_(holders))
    waiting = select(WindowEnvironment.environment).where(
        WindowEnvironment.status.in_(list(row_statuses))
    )
    held = select(Baseline.environment).where(Baseline.released_at.is_(None))
    commenting = select(RemoteWrite.environment).where(RemoteWrite.status == OWED)
    late = select(RemoteWrite.environment).where(RemoteWrite.late_until > now)
    parts = [holding, waiting, held, commenting, late]
    if early_status is not None:  # a checklist opened before its window's start
        parts.append(
            select(WindowEnvironment.environment).where(WindowEnvironment.status == early_status)
        )
    return set(session.scalars(union(*parts)).all())


def held_baseline(session: Session, environment: str, *, lock: bool = False) -> Baseline | None:
    """The baseline taken before the first window that still holds ``environment``,
    optionally locked for update (and read as it is once the lock is ours)."""
    stmt = select(Baseline).where(
        Baseline.environment == environment, Baseline.released_at.is_(None)
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def windows_in(
    session: Session,
    states: Iterable[str],
    *,
    newest_first: bool = False,
    limit: int = 20,
) -> Sequence[Window]:
    """Windows in ``states``, by number."""
    order = Window.id.desc() if newest_first else Window.id
    stmt = select(Window).where(Window.state.in_(list(states))).order_by(order).limit(limit)
    return session.scalars(stmt).all()


def cards_owed(
    session: Session, state: str, requested_before: datetime, *, limit: int = 50
) -> Sequence[Window]:
    """Windows in ``state`` made before ``requested_before`` whose card was never attached,
    oldest first; a series' occurrences are posted by the series. Found by the state index."""
    stmt = (
        select(Window)
        .where(
            Window.state == state,
            Window.card_ts.is_(None),
            Window.series_id.is_(None),
            Window.requested_at < requested_before,
        )
        .order_by(Window.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def attach_card(session: Session, window_id: int, channel: str, ts: str) -> None:
    """Remember where a window's card was posted."""
    session.execute(
        update(Window)
        .where(Window.id == window_id)
        .values(channel_id=channel, card_ts=ts, version=Window.version + 1)
    )
