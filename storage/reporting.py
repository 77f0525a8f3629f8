"""Read-only ledger queries for operators: the calendar feed and the metrics. Never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from storage.models import AuditEvent, DueAction, Window, WindowEnvironment
from storage.states import DueStatus


def feed_windows(
    session: Session,
    *,
    open_states: Iterable[str],
    since: datetime,
    environment: str | None = None,
    limit: int = 500,
) -> Sequence[Window]:
    """Windows still open, plus closed ones that ended or changed after ``since``; bounded.

    A closed window counts as recent when its planned end, its actual end, its decision or
    its request is at or after ``since``, so a cancelled future window stays in the feed
    (as cancelled) until its planned time has passed.
    """
    recent = or_(
        Window.ends_at >= since,
        Window.ended_at >= since,
        Window.decided_at >= since,
        Window.requested_at >= since,
    )
    stmt = select(Window).where(or_(Window.state.in_(list(open_states)), recent))
    if environment is not None:
        stmt = stmt.where(
            exists().where(
                and_(
                    WindowEnvironment.window_id == Window.id,
                    WindowEnvironment.environment == environment,
                )
            )
        )
    return session.scalars(stmt.order_by(Window.id.desc()).limit(limit)).all()


def last_changes(session: Session, window_ids: Iterable[int]) -> dict[int, datetime]:
    """When each window's audit trail last recorded something."""
    ids = list(window_ids)
    if not ids:
        return {}
    stmt = (
        select(AuditEvent.window_id, func.max(AuditEvent.at))
        .where(AuditEvent.window_id.in_(ids))
        .group_by(AuditEvent.window_id)
    )
    # max() keeps the column's type, so the values come back as aware UTC datetimes.
    return {
        window_id: at
        for window_id, at in session.execute(stmt).all()
        if window_id is not None and at is not None
    }


def window_counts(session: Session) -> dict[str, int]:
    """How many windows are in each state."""
    stmt = select(Window.state, func.count()).group_by(Window.state)
    return {state: int(count) for state, count in session.execute(stmt).all()}


def due_counts(session: Session, *, now: datetime, late_before: datetime) -> tuple[int, int]:
    """Actions whose time has come but that nobody has finished: (due, late).

    Due: pending with ``due_at <= now``, or running with a lease that ran out (its owner
    died and it waits to be claimed again). Late: those of them due before ``late_before``.
    """
    waiting = or_(
        and_(DueAction.status == DueStatus.PENDING, DueAction.due_at <= now),
        and_(DueAction.status == DueStatus.RUNNING, DueAction.lease_until < now),
    )
    due = session.scalar(select(func.count()).select_from(DueAction).where(waiting)) or 0
    late = (
        session.scalar(
            select(func.count())
            .select_from(DueAction)
            .where(waiting, DueAction.due_at < late_before)
        )
        or 0
    )
    return int(due), int(late)
