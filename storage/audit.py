"""The audit trail: what happened, appended to the hash chain (storage.audit_chain) when
the transaction commits, and read back. Functions take the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import audit_chain
from storage.models import AuditEvent, WindowEnvironment


def add(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    window_id: int | None = None,
    environment: str | None = None,
    detail: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail when the transaction commits.

    The event gets its id and place in the hash chain then; call ``append_now`` first
    when the id is needed inside the transaction.
    """
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        window_id=window_id,
        environment=environment,
        detail=detail,
        data=data or {},
    )
    audit_chain.stage(session, event)
    return event


def append_now(session: Session) -> None:
    """Append the events added so far in this transaction, so they have ids.

    It takes the audit chain lock until the end of the transaction: make it the last step.
    """
    audit_chain.append_staged(session)


def last_environment_action(
    session: Session, environment: str, actions: Iterable[str]
) -> str | None:
    """The most recent of ``actions`` recorded for an environment, if any.

    One newest id per action, each the last entry of its range of the (environment, action,
    id) index, then the newest of those.
    """
    wanted = list(dict.fromkeys(actions))
    if not wanted:
        return None
    newest = [
        select(AuditEvent.id)
        .where(AuditEvent.environment == environment, AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .scalar_subquery()
        for action in wanted
    ]
    ids = session.execute(select(*newest)).one()
    found = [
        (event_id, action)
        for event_id, action in zip(ids, wanted, strict=True)
        if event_id is not None
    ]
    return max(found)[1] if found else None


def history(session: Session, environment: str | None, limit: int) -> Sequence[AuditEvent]:
    """The newest audit events, for one environment (its own and its windows') or all."""
    stmt = select(AuditEvent)
    if environment is not None:
        covering = select(WindowEnvironment.window_id).where(
            WindowEnvironment.environment == environment
        )
        stmt = stmt.where(
            (AuditEvent.environment == environment) | AuditEvent.window_id.in_(covering)
        )
    return session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)).all()


def newest_id(session: Session) -> int | None:
    """The id of the newest event (None before the first): it moves with every change."""
    return session.scalar(select(func.max(AuditEvent.id)))
