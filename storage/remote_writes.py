"""Remote writes: the intent rows written before every Coursedog write, settled after it,
and the Activity comments owed. Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session

from storage.models import RemoteWrite

# Written into the statement, not bound, so the partial index of owed comments is usable
# however the database plans (PostgreSQL's generic plans too).
OWED = literal("owed", literal_execute=True)


def pending_writes(session: Session, environment: str) -> Sequence[RemoteWrite]:
    """Intents that were never settled (their writer died or lost its lease).

    ``'pending'`` is written into the statement, not bound, so that the partial index of the
    writes in flight is usable however the database plans (PostgreSQL's generic plans too).
    """
    pending = literal("pending", literal_execute=True)
    stmt = select(RemoteWrite).where(
        RemoteWrite.environment == environment, RemoteWrite.status == pending
    )
    return session.scalars(stmt).all()


def writes_that_may_land(
    session: Session, environment: str, now: datetime
) -> Sequence[RemoteWrite]:
    """Schedule writes on ``environment`` that may still reach Coursedog (a send whose
    answer was lost), oldest first."""
    stmt = (
        select(RemoteWrite)
        .where(RemoteWrite.environment == environment, RemoteWrite.late_until > now)
        .order_by(RemoteWrite.id)
    )
    return session.scalars(stmt).all()


def newest_applied_write(
    session: Session, environment: str, *, after_id: int
) -> RemoteWrite | None:
    """The newest schedule write on ``environment`` verified applied, if newer than
    ``after_id``."""
    stmt = (
        select(RemoteWrite)
        .where(
            RemoteWrite.environment == environment,
            RemoteWrite.operation == "write_schedule",
            RemoteWrite.status == "applied",
            RemoteWrite.id > after_id,
        )
        .order_by(RemoteWrite.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def forget_late_write(session: Session, intent_id: int) -> None:
    """A write that landed late (and was undone) is watched for no longer."""
    session.execute(update(RemoteWrite).where(RemoteWrite.id == intent_id).values(late_until=None))


def owed_comments(session: Session, environment: str, *, limit: int) -> Sequence[RemoteWrite]:
    """Activity comments recorded with their outcome and not yet posted, oldest first."""
    stmt = (
        select(RemoteWrite)
        .where(RemoteWrite.environment == environment, RemoteWrite.status == OWED)
        .order_by(RemoteWrite.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def owed_comment_environments(session: Session, window_id: int) -> set[str]:
    """Environments owed an Activity comment about ``window_id``."""
    stmt = select(RemoteWrite.environment).where(
        RemoteWrite.window_id == window_id, RemoteWrite.status == OWED
    )
    return set(session.scalars(stmt).all())
