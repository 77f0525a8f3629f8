"""Due actions: the scheduler's table. Claims use leases so each action takes effect once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from storage.dialect_insert import insert_new
from storage.models import DueAction
from storage.states import DUE_TRANSITIONS, DueStatus

_SOONEST = "soonest_due_action"  # session.info key: the earliest due time inserted
PENDING, RUNNING = DueStatus.PENDING, DueStatus.RUNNING


class IllegalDueMove(ValueError):
    """A due action asked to move where DUE_TRANSITIONS does not allow."""


def _move(row: DueAction, target: DueStatus) -> None:
    """The one way a due action's row changes status (bulk cancels: ``cancel_actions``)."""
    if target not in DUE_TRANSITIONS[row.status]:
        raise IllegalDueMove(f"due action {row.id} is {row.status}; it cannot become {target}")
    row.status = target


@dataclass(frozen=True)
class ClaimedAction:
    """A due action this owner holds the lease of."""

    id: int
    kind: str
    window_id: int | None
    environment: str | None
    due_at: datetime
    epoch: int
    attempts: int
    dedup_key: str
    payload: Mapping[str, Any] = field(default_factory=dict)


def schedule_action(
    session: Session,
    *,
    kind: str,
    due_at: datetime,
    dedup_key: str,
    now: datetime,
    window_id: int | None = None,
    environment: str | None = None,
    payload: Mapping[str, Any] | None = None,
    urgent: bool = True,
) -> bool:
    """Insert an action unless one with the same key exists; True when inserted. ``payload``
    is what the action needs besides its window (JSON; its handler reads it).

    One statement (``INSERT ... ON CONFLICT DO NOTHING RETURNING``), so a duplicate costs
    neither a savepoint nor an error. An urgent action counts for ``soonest_planned`` (it wakes
    the scheduler when due before its next look); one that is not waits for that look.
    """
    # Whether a row went in, from RETURNING: SQLAlchemy keeps the row count of an INSERT only
    # on request, and on PostgreSQL it came back as -1 (nothing inserted, it seemed).
    stmt = insert_new(session, DueAction, "dedup_key", returning="id")
    row = {
        "kind": kind,
        "window_id": window_id,
        "environment": environment,
        "due_at": due_at,
        "status": PENDING,
        "attempts": 0,
        "lease_epoch": 0,
        "dedup_key": dedup_key,
        "created_at": now,
        "payload": dict(payload or {}),
    }
    inserted = session.execute(stmt, row).first() is not None
    if inserted and urgent:
        soonest = session.info.get(_SOONEST)
        session.info[_SOONEST] = due_at if soonest is None else min(soonest, due_at)
    return inserted


def soonest_planned(session: Session) -> datetime | None:
    """The earliest due time of the actions this session inserted (to wake the scheduler)."""
    soonest: datetime | None = session.info.get(_SOONEST)
    return soonest


def cancel_actions(session: Session, window_id: int, kinds: Iterable[str], now: datetime) -> int:
    """Cancel a window's pending actions of the given kinds; returns how many."""
    result = session.execute(
        update(DueAction)
        .where(
            DueAction.window_id == window_id,
            DueAction.kind.in_(list(kinds)),
            DueAction.status == PENDING,  # the one move a bulk update makes: pending -> cancelled
        )
        .values(status=DueStatus.CANCELLED, done_at=now)
    )
    return int(getattr(result, "rowcount", 0))


def claim_due(
    session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedAction]:
    """Lease up to ``limit`` actions that are due, or whose previous lease ran out."""
    stmt = (
        select(DueAction)
        .where(
            or_(
                and_(DueAction.status == PENDING, DueAction.due_at <= now),
                and_(DueAction.status == RUNNING, DueAction.lease_until < now),
            )
        )
        .order_by(DueAction.due_at, DueAction.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = []
    for row in session.scalars(stmt).all():
        _move(row, RUNNING)
        row.lease_owner, row.lease_until = owner, now + lease
        row.lease_epoch += 1
        row.attempts += 1
        claimed.append(
            ClaimedAction(
                id=row.id,
                kind=row.kind,
                window_id=row.window_id,
                environment=row.environment,
                due_at=row.due_at,
                epoch=row.lease_epoch,
                attempts=row.attempts,
                dedup_key=row.dedup_key,
                payload=row.payload,
            )
        )
    return claimed


def held(session: Session, action: ClaimedAction, owner: str) -> DueAction | None:
    """The action's row, locked, if this owner still holds that lease epoch."""
    stmt = (
        select(DueAction)
        .where(
            DueAction.id == action.id,
            DueAction.status == RUNNING,
            DueAction.lease_owner == owner,
            DueAction.lease_epoch == action.epoch,
        )
        .with_for_update()
    )
    return session.scalars(stmt).first()


def finish(
    row: DueAction,
    now: datetime,
    *,
    status: DueStatus = DueStatus.DONE,
    error: str | None = None,
) -> None:
    """Mark a held action finished (done, or failed)."""
    _move(row, status)
    row.done_at, row.last_error = now, error
    row.lease_owner, row.lease_until = None, None


def retry_later(row: DueAction, at: datetime, error: str) -> None:
    """Give a held action back to run again at ``at``."""
    _move(row, PENDING)
    row.due_at, row.last_error = at, error
    row.lease_owner, row.lease_until = None, None


def next_due_at(session: Session) -> datetime | None:
    """When the scheduler next has something to do (a pending action or an expiring lease)."""
    pending = session.scalar(select(func.min(DueAction.due_at)).where(DueAction.status == PENDING))
    leased = session.scalar(
        select(func.min(DueAction.lease_until)).where(DueAction.status == RUNNING)
    )
    candidates = [t for t in (pending, leased) if t is not None]
    return min(candidates) if candidates else None
