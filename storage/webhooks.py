"""Webhook events and their deliveries. Functions take the caller's session and never commit.

An event is added in the transaction of the change it tells of. A sender then fans each new
event out to a delivery row per endpoint that wants it, claims due deliveries (pushing their
next attempt past the request's timeout, so an attempt whose sender died is made again),
and settles each attempt: delivered, retried later, or given up. Each endpoint keeps its run
of failed attempts; ``failed_attempt`` says when that run makes it down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from storage.dialect_insert import insert_new
from storage.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class DeliveryStatus(StrEnum):
    """Where one event's delivery to one endpoint stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    GIVEN_UP = "given_up"


PENDING = DeliveryStatus.PENDING


@dataclass(frozen=True)
class Claimed:
    """A delivery attempt this sender makes now."""

    id: int
    endpoint: str
    event_id: str
    body: str
    attempts: int  # counting this one
    created_at: datetime  # the event's


def add_event(
    session: Session,
    *,
    event_id: str,
    dedup_key: str,
    type: str,
    window_id: int | None,
    body: str,
    now: datetime,
) -> bool:
    """Keep an event for the endpoints, unless one with ``dedup_key`` exists; True if added."""
    stmt = insert_new(session, WebhookEvent, "dedup_key", returning="id")
    row = {
        "event_id": event_id,
        "dedup_key": dedup_key,
        "type": type,
        "window_id": window_id,
        "created_at": now,
        "body": body,
        "fanned_out": False,
    }
    return session.execute(stmt, row).first() is not None


def fan_out(
    session: Session, endpoints: Callable[[str], Sequence[str]], now: datetime, limit: int = 200
) -> int:
    """A delivery, due now, for each endpoint that wants each event not fanned out yet
    (``endpoints``: the names wanting an event type); returns how many events were."""
    stmt = (
        select(WebhookEvent)
        .where(WebhookEvent.fanned_out.is_(False))
        .order_by(WebhookEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    events = session.scalars(stmt).all()
    # The events are locked and marked in this transaction: no other sender fans them out.
    rows = [
        {
            "event_id": event.id,
            "endpoint": name,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for event in events
        for name in endpoints(event.type)
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    for event in events:
        event.fanned_out = True
    return len(events)


def anything_to_do(session: Session, now: datetime) -> bool:
    """Whether an event waits to be fanned out or a delivery is due (a read: a pass with
    nothing to do takes no writer's turn)."""
    unfanned = select(WebhookEvent.id).where(WebhookEvent.fanned_out.is_(False)).exists()
    due = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
        .exists()
    )
    return bool(session.scalar(select(unfanned | due)))


def purge(session: Session, before: datetime) -> int:
    """Forget events older than ``before`` whose deliveries are all over; how many."""
    owed = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.event_id == WebhookEvent.id, WebhookDelivery.status == PENDING)
        .exists()
    )
    old = select(WebhookEvent.id).where(
        WebhookEvent.created_at < before, WebhookEvent.fanned_out.is_(True), ~owed
    )
    ids = list(session.scalars(old.limit(1000)).all())
    if ids:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
        session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
    return len(ids)


def claim_due(session: Session, now: datetime, hold: timedelta, limit: int) -> list[Claimed]:
    """Up to ``limit`` due deliveries in the order of their events, each counted as attempted
    and held until ``now + hold`` (another sender takes it over after that).

    An endpoint gets its events in order: none is claimed while an earlier one for the same
    endpoint waits for its next attempt (or is held by a sender).
    """
    earlier = aliased(WebhookDelivery)
    waiting = (
        select(earlier.id)
        .where(
            earlier.endpoint == WebhookDelivery.endpoint,
            earlier.status == PENDING,
            earlier.event_id < WebhookDelivery.event_id,
            earlier.next_attempt_at > now,
        )
        .exists()
    )
    stmt = (
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now, ~waiting)
        .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = []
    for delivery, event in session.execute(stmt).all():
        delivery.attempts += 1
        delivery.next_attempt_at = now + hold
        claimed.append(
            Claimed(
                delivery.id,
                delivery.endpoint,
                event.event_id,
                event.body,
                delivery.attempts,
                event.created_at,
            )
        )
    return claimed


def settle(
    session: Session, delivery_id: int, status: DeliveryStatus, now: datetime, error: str | None
) -> None:
    """A delivery is over: delivered, or given up (with the last error)."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(status=status, settled_at=now, last_error=error)
    )


def retry_at(session: Session, delivery_id: int, when: datetime, error: str) -> None:
    """A failed attempt: the next one at ``when``."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING)
        .values(next_attempt_at=when, last_error=error)
    )


def release(session: Session, delivery_id: int, now: datetime) -> None:
    """A claimed attempt not made after all (an earlier event's failed first): due again."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING)
        .values(attempts=WebhookDelivery.attempts - 1, next_attempt_at=now)
    )


def endpoint(session: Session, name: str) -> WebhookEndpoint:
    """An endpoint's row, locked (made when first needed)."""
    session.execute(
        insert_new(session, WebhookEndpoint, "name"),
        {"name": name, "failing": 0, "down": False, "episode": 0},
    )
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.name == name).with_for_update()
    return session.scalars(stmt).one()


def failed_attempt(
    session: Session, name: str, error: str, now: datetime, *, down_after: int
) -> bool:
    """Count a failed attempt on ``name``; True when it has just become down."""
    row = endpoint(session, name)
    row.failing += 1
    row.last_error = error
    if row.down or row.failing < down_after:
        return False
    row.down, row.episode, row.changed_at = True, row.episode + 1, now
    return True


def good_attempt(session: Session, name: str, now: datetime) -> bool:
    """An attempt on ``name`` succeeded; True when it was down until now."""
    row = session.get(WebhookEndpoint, name, with_for_update=True)
    if row is None or (row.failing == 0 and not row.down):
        return False
    was_down = row.down
    row.failing, row.down, row.last_error = 0, False, None
    if was_down:
        row.changed_at = now
    return was_down


def untold(session: Session) -> Sequence[WebhookEndpoint]:
    """Endpoints whose latest change (down, or back) has not been posted yet."""
    rows = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.episode > 0)).all()
    return [row for row in rows if row.told != news(row)]


def news(row: WebhookEndpoint) -> str:
    """What there is to say about an endpoint now: ``down:<n>`` or ``up:<n>``."""
    return f"{'down' if row.down else 'up'}:{row.episode}"


def mark_told(session: Session, name: str, told: str) -> None:
    """The notice ``told`` about ``name`` was posted."""
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.name == name).values(told=told))


def counts(session: Session) -> dict[str, int]:
    """Deliveries by status."""
    stmt = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    return {str(status): int(n) for status, n in session.execute(stmt).all()}
