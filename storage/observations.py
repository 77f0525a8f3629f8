"""Reads of idle environments' schedules, kept as stretches of the same schedule.

Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ScheduleObservation

# Stretches kept per environment; older ones are dropped as new ones begin.
KEEP = 50


def observe(
    session: Session, environment: str, *, nightly: bool, realtime: bool, at: datetime
) -> None:
    """Note that ``environment``'s schedule read as given at ``at``."""
    newest = _newest(session, environment, lock=True)
    if newest is not None and (newest.nightly, newest.realtime) == (nightly, realtime):
        newest.last_seen_at = max(newest.last_seen_at, at)
        return
    session.add(
        ScheduleObservation(
            environment=environment,
            nightly=nightly,
            realtime=realtime,
            first_seen_at=at,
            last_seen_at=at,
        )
    )
    session.flush()
    _prune(session, environment)


def newest(session: Session, environment: str, limit: int) -> Sequence[ScheduleObservation]:
    """The ``limit`` newest stretches of ``environment``, newest first."""
    stmt = (
        select(ScheduleObservation)
        .where(ScheduleObservation.environment == environment)
        .order_by(ScheduleObservation.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def _newest(session: Session, environment: str, *, lock: bool) -> ScheduleObservation | None:
    stmt = (
        select(ScheduleObservation)
        .where(ScheduleObservation.environment == environment)
        .order_by(ScheduleObservation.id.desc())
        .limit(1)
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def _prune(session: Session, environment: str) -> None:
    oldest_kept = session.scalar(
        select(ScheduleObservation.id)
        .where(ScheduleObservation.environment == environment)
        .order_by(ScheduleObservation.id.desc())
        .offset(KEEP - 1)
        .limit(1)
    )
    if oldest_kept is not None:
        session.execute(
            delete(ScheduleObservation).where(
                ScheduleObservation.environment == environment,
                ScheduleObservation.id < oldest_kept,
            )
        )
