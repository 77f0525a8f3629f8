"""Ledger queries for recurring series, blackout periods and overlapping windows.

Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from storage.models import BlackoutPeriod, Series, Window, WindowEnvironment


def covers(environments: Sequence[str]) -> ColumnElement[bool]:
    """Whether a window covers any of ``environments``: one look-up per window in
    window_environments' primary key.

    OFFSET 0 keeps PostgreSQL from turning the test into a join over every row an environment
    ever had, a plan it chooses under stale statistics and one whose cost grows with history.
    """
    return (
        select(WindowEnvironment.window_id)
        .where(
            WindowEnvironment.window_id == Window.id,
            WindowEnvironment.environment.in_(list(environments)),
        )
        .offset(0)
        .exists()
    )


def get_series(session: Session, series_id: int, *, lock: bool = False) -> Series | None:
    """A series by number, optionally locked for update."""
    stmt = select(Series).where(Series.id == series_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def series_in(session: Session, states: Iterable[str], limit: int = 50) -> Sequence[Series]:
    """Series in ``states``, by number."""
    stmt = select(Series).where(Series.state.in_(list(states))).order_by(Series.id).limit(limit)
    return session.scalars(stmt).all()


def occurrence_windows(
    session: Session, series_id: int, states: Iterable[str] | None = None, *, lock: bool = False
) -> Sequence[Window]:
    """The windows created for a series' occurrences, earliest first."""
    stmt = select(Window).where(Window.series_id == series_id)
    if states is not None:
        stmt = stmt.where(Window.state.in_(list(states)))
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(Window.occurrence_on, Window.id)).all()


def blackout_periods(
    session: Session, *, ending_after: datetime | None = None
) -> list[BlackoutPeriod]:
    """Periods added in Slack and not removed; with ``ending_after``, only those still to end."""
    stmt = select(BlackoutPeriod).where(BlackoutPeriod.removed_at.is_(None))
    if ending_after is not None:
        stmt = stmt.where(BlackoutPeriod.ends_at > ending_after)
    return list(session.scalars(stmt.order_by(BlackoutPeriod.starts_at, BlackoutPeriod.id)))


def get_blackout(
    session: Session, blackout_id: int, *, lock: bool = False
) -> BlackoutPeriod | None:
    """A period by number, optionally locked for update."""
    stmt = select(BlackoutPeriod).where(BlackoutPeriod.id == blackout_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def overlapping_windows(
    session: Session,
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    *,
    now: datetime,
    exclude: int | None = None,
    limit: int | None = None,
) -> list[Window]:
    """Windows in ``states`` on any of ``environments`` whose time overlaps ``[start, end)``,
    oldest first, at most ``limit`` of them.

    A window that starts as soon as it is approved is taken to run from ``now``.
    """
    stmt = _overlapping(environments, start, end, states, now=now, exclude=exclude)
    return list(session.scalars(stmt.order_by(Window.id).limit(limit)))


def count_overlapping_windows(
    session: Session,
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    *,
    now: datetime,
    exclude: int | None = None,
    cap: int,
) -> int:
    """How many windows ``overlapping_windows`` would find without a limit, counting no
    further than ``cap`` (a pile of undecided requests must not make each new one slower)."""
    stmt = _overlapping(environments, start, end, states, now=now, exclude=exclude)
    found = stmt.with_only_columns(Window.id).limit(cap).subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


def _overlapping(
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    *,
    now: datetime,
    exclude: int | None,
) -> Select[Window]:
    """The windows that overlap, filtered by the database (they can be many: e.g. a pile of
    requests nobody decided)."""
    timed = and_(
        Window.starts_at.is_not(None),
        Window.starts_at < end,
        or_(Window.ends_at.is_(None), Window.ends_at > start),
    )
    # Not started yet, and runs from approval: [now, now + duration).
    from_now = (
        and_(Window.starts_at.is_(None), Window.duration_seconds > (start - now).total_seconds())
        if now < end
        else false()
    )
    stmt = select(Window).where(
        covers(environments), Window.state.in_(list(states)), or_(timed, from_now)
    )
    if exclude is not None:
        stmt = stmt.where(Window.id != exclude)
    return stmt
