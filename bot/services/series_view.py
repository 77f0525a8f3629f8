"""Read-only snapshots of series rows, safe to hand to renderers after the session closes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.approvals import Approvals
from bot.domain.recurrence import Occurrence, Recurrence
from bot.domain.series_states import SeriesState
from bot.services.views import SYSTEM
from storage.models import Series


def recurrence_of(row: Series) -> Recurrence:
    """The series' rule, first occurrence, zone, length and skipped dates as a domain value:
    whatever expands it (a blackout check, a list, the calendar) leaves the skipped ones out."""
    return Recurrence(
        rule=row.rule,
        dtstart=datetime.fromisoformat(row.dtstart),
        zone=row.time_zone,
        duration=timedelta(seconds=row.duration_seconds),
        ends_wall=time.fromisoformat(row.ends_wall) if row.ends_wall else None,
        skipped=frozenset(date.fromisoformat(d) for d in row.skipped),
    )


def ended_clause(ended_by: str | None) -> str:
    """How a series ended, to follow "ended": ``by <@U1>`` when a person ended it; sis-maint
    ends a series by itself only when its approval card could not be posted."""
    if ended_by == SYSTEM:
        return "by sis-maint, because its approval card could not be posted"
    return f"by <@{ended_by}>"


def series_label(series_id: int) -> str:
    """S-3."""
    return f"S-{series_id}"


@dataclass(frozen=True)
class OccurrenceLine:
    """An upcoming occurrence and, once it has one, its window."""

    occurrence: Occurrence
    window_id: int | None = None
    window_state: str | None = None


@dataclass(frozen=True)
class SeriesView:
    """Everything a message about a series needs."""

    id: int
    state: SeriesState
    requester_id: str
    environments: tuple[str, ...]
    reason: str
    ticket: str | None
    recurrence: Recurrence
    skipped: frozenset[date]
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    ended_by: str | None
    edited_by: str | None
    override_by: str | None
    override_reason: str | None
    overridden: tuple[str, ...]
    channel_id: str | None
    card_ts: str | None
    # The next occurrences, when the snapshot was taken for a list or a card.
    upcoming: tuple[OccurrenceLine, ...] = ()
    # Who has approved so far, in order, and how many approvals the series needs.
    approved_by: tuple[str, ...] = ()
    approvals_required: int = 1

    @property
    def approvals(self) -> Approvals:
        """The approvals so far, out of those needed."""
        return Approvals(self.approved_by, self.approvals_required)

    @property
    def number(self) -> str:
        """S-3."""
        return series_label(self.id)

    @classmethod
    def of(cls, row: Series, upcoming: tuple[OccurrenceLine, ...] = ()) -> SeriesView:
        """Snapshot a series row."""
        recurrence = recurrence_of(row)
        return cls(
            id=row.id,
            state=SeriesState(row.state),
            requester_id=row.requester_id,
            environments=tuple(row.environments),
            reason=row.reason,
            ticket=row.ticket,
            recurrence=recurrence,
            skipped=recurrence.skipped,
            requested_at=row.requested_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            ended_by=row.ended_by,
            edited_by=row.edited_by,
            override_by=row.override_by,
            override_reason=row.override_reason,
            overridden=tuple(row.overridden),
            channel_id=row.channel_id,
            card_ts=row.card_ts,
            upcoming=upcoming,
            approved_by=tuple(row.approved_by or ()),
            approvals_required=row.approvals_required or 1,
        )
