"""What lies ahead besides windows: future occurrences of approved series, and blackout
periods, between two instants. Pure: no session, no clock.

Made for the calendar feed: each item has a stable ``uid`` (without a domain), its span in
UTC, a one-line summary, a description and the environments it concerns. An occurrence that
already has its window (MW-n) is left out by default, since the feed lists it as that window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.blackouts import Blackout
from bot.domain.recurrence import Recurrence


class ItemKind(StrEnum):
    """What an item stands for."""

    OCCURRENCE = "occurrence"
    BLACKOUT = "blackout"


@dataclass(frozen=True)
class SeriesPlan:
    """What the list needs of one approved series."""

    id: int
    environments: tuple[str, ...]
    recurrence: Recurrence
    reason: str
    ticket: str | None
    # Local dates whose occurrence already has a window.
    materialised: frozenset[date] = frozenset()
    changed_at: datetime | None = None
    # Rises with every change of the series (an RFC 5545 SEQUENCE less one).
    version: int = 1


@dataclass(frozen=True)
class UpcomingItem:
    """One future occurrence or one blackout period."""

    kind: ItemKind
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    environments: tuple[str, ...]  # empty: every environment
    changed_at: datetime | None = None
    sequence: int = 0


def upcoming_items(
    series: Iterable[SeriesPlan],
    blackouts: Iterable[Blackout],
    start: datetime,
    end: datetime,
    *,
    environment: str | None = None,
    include_materialised: bool = False,
) -> list[UpcomingItem]:
    """Occurrences that start and periods that overlap ``[start, end)``, earliest first.

    With ``environment``, only what concerns that environment.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    items: list[UpcomingItem] = []
    for plan in series:
        if environment is not None and environment not in plan.environments:
            continue
        items.extend(_occurrences(plan, start, end, include_materialised))
    for period in blackouts:
        if environment is not None and not period.covers(environment):
            continue
        if period.starts_at < end and start < period.ends_at:
            items.append(_blackout(period))
    return sorted(items, key=lambda i: (i.start, i.uid))


def _occurrences(
    plan: SeriesPlan, start: datetime, end: datetime, include_materialised: bool
) -> list[UpcomingItem]:
    found = []
    envs = ", ".join(plan.environments)
    lines: Sequence[str] = (
        f"Merge schedules off on: {envs}",
        f"Series S-{plan.id}: {plan.recurrence.describe()}",
        *([f"Reason: {plan.reason}"] if plan.reason else []),
        *([f"Ticket: {plan.ticket}"] if plan.ticket else []),
    )
    for occurrence in plan.recurrence.between(start, end):
        if occurrence.start >= end:
            continue
        if occurrence.on in plan.materialised and not include_materialised:
            continue
        note = [occurrence.note] if occurrence.note else []
        found.append(
            UpcomingItem(
                kind=ItemKind.OCCURRENCE,
                uid=f"s-{plan.id}-{occurrence.on:%Y%m%d}",
                start=occurrence.start,
                end=occurrence.end,
                summary=f"S-{plan.id} {envs}: merges off"
                + (f" - {plan.reason}" if plan.reason else ""),
                description="\n".join([*lines, *note]),
                environments=plan.environments,
                changed_at=plan.changed_at,
                sequence=max(0, plan.version - 1),
            )
        )
    return found


def _blackout(period: Blackout) -> UpcomingItem:
    ident = period.key.lower().replace(":", "-").replace(" ", "-")
    return UpcomingItem(
        kind=ItemKind.BLACKOUT,
        uid=f"blackout-{ident}",
        start=period.starts_at,
        end=period.ends_at,
        summary=f"Blackout: {period.name}",
        description=(
            f"No maintenance window may take the integration down ({period.where()}) "
            "unless an approver overrides it with a reason."
        ),
        environments=period.environments,
        changed_at=period.changed_at,
    )
