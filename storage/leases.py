"""Environment leases: who may talk to an environment's Coursedog right now, by epoch.
Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from storage.dialect_insert import insert_new
from storage.models import EnvironmentLease


def acquire_lease(
    session: Session, environment: str, owner: str, now: datetime, ttl: timedelta
) -> int | None:
    """Take the environment's lease if free or expired; return its epoch, or None if busy.

    One ``UPDATE … RETURNING`` (an ``INSERT … ON CONFLICT DO NOTHING`` the first time).
    """
    free = or_(
        EnvironmentLease.owner.is_(None),
        EnvironmentLease.owner == owner,
        EnvironmentLease.lease_until.is_(None),
        EnvironmentLease.lease_until <= now,
    )
    taken = session.scalar(
        update(EnvironmentLease)
        .where(EnvironmentLease.environment == environment, free)
        .values(owner=owner, lease_until=now + ttl, epoch=EnvironmentLease.epoch + 1)
        .returning(EnvironmentLease.epoch)
    )
    if taken is not None:
        return int(taken)
    first = session.scalar(
        insert_new(session, EnvironmentLease, "environment", returning="epoch"),
        {"environment": environment, "owner": owner, "lease_until": now + ttl, "epoch": 1},
    )
    return None if first is None else int(first)


def held_until(session: Session, environment: str) -> datetime | None:
    """When the environment's lease runs out, if someone holds it."""
    row = session.execute(
        select(EnvironmentLease.owner, EnvironmentLease.lease_until).where(
            EnvironmentLease.environment == environment
        )
    ).first()
    return None if row is None or row.owner is None else row.lease_until


def released_leases(session: Session, environments: Iterable[str]) -> dict[str, int]:
    """Of ``environments``, those whose lease was given back (or never taken), with its epoch.

    A lease that merely ran out is not among them: its holder may still be at work. A later
    ``acquire_lease`` returns the epoch plus one only if nobody took the lease in between (see
    bot.services.read_ahead)."""
    wanted = sorted(set(environments))
    if not wanted:
        return {}
    rows = session.execute(
        select(EnvironmentLease.environment, EnvironmentLease.owner, EnvironmentLease.epoch).where(
            EnvironmentLease.environment.in_(wanted)
        )
    ).all()
    held = {env for env, owner, _epoch in rows if owner is not None}
    epochs = {env: int(epoch) for env, _owner, epoch in rows}
    return {env: epochs.get(env, 0) for env in wanted if env not in held}


def _held_by(environment: str, owner: str, epoch: int) -> tuple[ColumnElement[bool], ...]:
    """The environment's lease row while this owner still holds that epoch."""
    return (
        EnvironmentLease.environment == environment,
        EnvironmentLease.owner == owner,
        EnvironmentLease.epoch == epoch,
    )


def renew_lease(
    session: Session, environment: str, owner: str, epoch: int, *, now: datetime, ttl: timedelta
) -> bool:
    """Extend the lease if this owner still holds that epoch; False if it was taken over."""
    result = session.execute(
        update(EnvironmentLease)
        .where(*_held_by(environment, owner, epoch))
        .values(lease_until=now + ttl)
    )
    return bool(getattr(result, "rowcount", 0))


def release_lease(session: Session, environment: str, owner: str, epoch: int) -> bool:
    """Give the lease back if this owner still holds that epoch."""
    result = session.execute(
        update(EnvironmentLease)
        .where(*_held_by(environment, owner, epoch))
        .values(owner=None, lease_until=None)
    )
    return bool(getattr(result, "rowcount", 0))
