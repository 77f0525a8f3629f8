"""Ledger queries for recurring series, blackout periods and overlapping windows.

Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from storage.dialect_insert import insert_new
from storage.models import (
    BlackoutPeriod,
    ConfiguredBlackout,
    Series,
    Window,
    WindowEnvironment,
)


def covers(environments: Sequence[str]) -> ColumnElement[bool]:
    """Whether a window covers any of ``environments``: one look-up per window in
    window_environments' primary key.

    OFFSET 0 keeps PostgreSQL from turning the test into a join over every row an environment
    ever had, a plan it chooses under stale statistics and one whose cost grows with history.
    """
    return _covers(list(environments))


def _covers(environments: list[str] | BindParameter[Any]) -> ColumnElement[bool]:
    return (
        select(WindowEnvironment.window_id)
        .where(
            WindowEnvironment.window_id == Window.id,
            WindowEnvironment.environment.in_(environments),
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
    session: Session,
    series_id: int,
    states: Iterable[str] | None = None,
    *,
    on: date | None = None,
    lock: bool = False,
) -> Sequence[Window]:
    """The windows created for a series' occurrences (those of the day ``on``), earliest
    first; optionally locked for update, and then read as they are once the locks are ours."""
    stmt = select(Window).where(Window.series_id == series_id)
    if states is not None:
        stmt = stmt.where(Window.state.in_(list(states)))
    if on is not None:
        stmt = stmt.where(Window.occurrence_on == on)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt.order_by(Window.occurrence_on, Window.id)).all()


# Every request reads them: built once.
_BLACKOUTS = (
    select(BlackoutPeriod)
    .where(BlackoutPeriod.removed_at.is_(None))
    .order_by(BlackoutPeriod.starts_at, BlackoutPeriod.id)
)


def blackout_periods(
    session: Session, *, ending_after: datetime | None = None
) -> list[BlackoutPeriod]:
    """Periods added in Slack and not removed; with ``ending_after``, only those still to end."""
    if ending_after is None:
        return list(session.scalars(_BLACKOUTS))
    ending = _BLACKOUTS.where(BlackoutPeriod.ends_at > ending_after)
    return list(session.scalars(ending))


def get_blackout(
    session: Session, blackout_id: int, *, lock: bool = False
) -> BlackoutPeriod | None:
    """A period by number, optionally locked for update."""
    stmt = select(BlackoutPeriod).where(BlackoutPeriod.id == blackout_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def note_configured(
    session: Session, fingerprints: Mapping[str, str], now: datetime
) -> dict[str, datetime]:
    """Since when each configured period (key -> fingerprint) has been as it is.

    A period not seen before, or whose fingerprint changed, gets ``now``; one no longer
    configured is forgotten, so that if it comes back it is new again. Writes nothing when
    nothing changed.
    """
    known = {row.key: row for row in session.scalars(select(ConfiguredBlackout))}
    gone = set(known) - set(fingerprints)
    if gone:
        session.execute(delete(ConfiguredBlackout).where(ConfiguredBlackout.key.in_(gone)))
    new = [key for key in fingerprints if key not in known]
    for key in new:
        # Another process starting with the same file may insert it first: its time stays.
        values = {"key": key, "fingerprint": fingerprints[key], "changed_at": now}
        session.execute(insert_new(session, ConfiguredBlackout, "key"), values)
    for key, row in known.items():
        if key in fingerprints and row.fingerprint != fingerprints[key]:
            row.fingerprint, row.changed_at = fingerprints[key], now
    if not new:
        return {key: known[key].changed_at for key in fingerprints}
    stmt = select(ConfiguredBlackout).where(ConfiguredBlackout.key.in_(new))
    inserted = {row.key: row.changed_at for row in session.scalars(stmt)}
    # A process running with another file may have forgotten one meanwhile: it is new now.
    return {
        key: inserted.get(key, now) if key in new else known[key].changed_at for key in fingerprints
    }


def overlapping_windows(
    session: Session,
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    *,
    now: datetime,
) -> list[Window]:
    """Windows in ``states`` on any of ``environments`` whose time overlaps ``[start, end)``,
    oldest first.

    A window that starts as soon as it is approved is taken to run from ``now``.
    """
    stmt = _overlapping(from_now=now < end, columns=(Window,)).order_by(Window.id)
    return list(session.scalars(stmt, _overlap_params(environments, start, end, states, now)))


class Overlapping(NamedTuple):
    """One window that overlaps another: what a card says of it."""

    id: int
    state: str
    starts_at: datetime | None
    ends_at: datetime | None
    environments: tuple[str, ...]


def overlap_summary(
    session: Session,
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    *,
    now: datetime,
    exclude: int,
    shown: int,
    cap: int,
) -> tuple[list[Overlapping], int]:
    """The oldest ``shown`` windows ``overlapping_windows`` would find, other than
    ``exclude``, and how many it would find in all, counting no further than ``cap`` (a pile
    of undecided requests must not make each new one slower).

    One statement, built once: the windows, each with the count beside it, joined to their
    environments.
    """
    params = _overlap_params(environments, start, end, states, now)
    params.update(exclude=exclude, shown=shown, cap=cap)
    rows: dict[int, Any] = {}
    names: dict[int, list[str]] = {}
    total = 0
    for row in session.execute(_summary(now < end), params):
        rows.setdefault(row.id, row)
        names.setdefault(row.id, []).append(row.environment)
        total = int(row.total)
    found = [
        Overlapping(row.id, row.state, row.starts_at, row.ends_at, tuple(names[row.id]))
        for row in rows.values()
    ]
    return found, total


@cache
def _summary(from_now: bool) -> Select[Any]:
    columns = (Window.id, Window.state, Window.starts_at, Window.ends_at)
    found = (
        _overlapping(from_now=from_now, columns=columns)
        .where(Window.id != bindparam("exclude"))
        .order_by(Window.id)
        .limit(bindparam("cap"))
        .subquery()
    )
    oldest = (
        select(found, func.count().over().label("total"))
        .order_by(found.c.id)
        .limit(bindparam("shown"))
        .subquery()
    )
    return (
        select(oldest, WindowEnvironment.environment)
        .join(WindowEnvironment, WindowEnvironment.window_id == oldest.c.id)
        .order_by(oldest.c.id, WindowEnvironment.position)
    )


def _overlap_params(
    environments: Sequence[str],
    start: datetime,
    end: datetime,
    states: Iterable[str],
    now: datetime,
) -> dict[str, Any]:
    return {
        "environments": list(environments),
        "states": list(states),
        "start": start,
        "end": end,
        # Not started yet, and runs from approval: [now, now + duration) overlaps when its
        # duration reaches past the start.
        "ahead": (start - now).total_seconds(),
    }


def _overlapping(*, from_now: bool, columns: tuple[Any, ...]) -> Select[Any]:
    """The windows that overlap, filtered by the database (they can be many: e.g. a pile of
    requests nobody decided); its parameters are those of ``_overlap_params``. ``from_now``:
    whether windows that run from their approval can overlap at all (the span ends after now).
    """
    timed = and_(
        Window.starts_at.is_not(None),
        Window.starts_at < bindparam("end"),
        or_(Window.ends_at.is_(None), Window.ends_at > bindparam("start")),
    )
    runs_from_now = (
        and_(Window.starts_at.is_(None), Window.duration_seconds > bindparam("ahead"))
        if from_now
        else false()
    )
    return select(*columns).where(
        _covers(bindparam("environments", expanding=True)),
        Window.state.in_(bindparam("states", expanding=True)),
        or_(timed, runs_from_now),
    )
