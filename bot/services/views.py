"""Read-only snapshots of ledger rows, safe to hand to renderers after the session closes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.approvals import Approvals
from bot.domain.states import WindowState
from storage.models import Window


@dataclass(frozen=True)
class EnvironmentView:
    """Where one environment of a window stands."""

    name: str
    status: str
    detail: str | None


@dataclass(frozen=True)
class WindowView:
    """Everything a message about a window needs."""

    id: int
    state: WindowState
    requester_id: str
    reason: str
    ticket: str | None
    environments: tuple[EnvironmentView, ...]
    requested_at: datetime
    starts_at: datetime | None
    ends_at: datetime | None
    duration: timedelta
    time_zone: str
    decided_by: str | None
    decided_at: datetime | None
    ended_by: str | None
    ended_at: datetime | None
    failure_reason: str | None
    channel_id: str | None
    card_ts: str | None
    # The series this window is an occurrence of, if any.
    series_id: int | None = None
    # An approver's override of blackout periods: who, why, and which periods.
    override_by: str | None = None
    override_reason: str | None = None
    overridden: str | None = None
    # Who has approved so far, in order, and how many approvals the window needs.
    approved_by: tuple[str, ...] = ()
    approvals_required: int = 1

    @property
    def number(self) -> str:
        """MW-12."""
        return f"MW-{self.id}"

    @property
    def environment_names(self) -> tuple[str, ...]:
        """The environments' short names."""
        return tuple(e.name for e in self.environments)

    @property
    def approvals(self) -> Approvals:
        """The approvals so far, out of those needed."""
        return Approvals(self.approved_by, self.approvals_required)

    @property
    def ended_off_plan(self) -> bool:
        """Ended a minute or more before or after its planned end (ended early, or overdue)."""
        if self.ended_at is None or self.ends_at is None:
            return False
        return abs(self.ended_at - self.ends_at) >= timedelta(minutes=1)

    @classmethod
    def of(cls, window: Window) -> WindowView:
        """Snapshot a window row."""
        return cls(
            id=window.id,
            state=WindowState(window.state),
            requester_id=window.requester_id,
            reason=window.reason,
            ticket=window.ticket,
            environments=tuple(
                EnvironmentView(e.environment, e.status, e.detail) for e in window.environments
            ),
            requested_at=window.requested_at,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            duration=timedelta(seconds=window.duration_seconds),
            time_zone=window.time_zone,
            decided_by=window.decided_by,
            decided_at=window.decided_at,
            ended_by=window.ended_by,
            ended_at=window.ended_at,
            failure_reason=window.failure_reason,
            channel_id=window.channel_id,
            card_ts=window.card_ts,
            series_id=window.series_id,
            override_by=window.override_by,
            override_reason=window.override_reason,
            overridden=window.overridden,
            approved_by=tuple(window.approved_by or ()),
            approvals_required=window.approvals_required or 1,
        )


# The actor of what sis-maint does by itself: never a Slack user, so never mentioned.
SYSTEM = "system"


def ended_clause(view: WindowView) -> str:
    """How the window ended, to follow "ended": ``by <@U1>`` when a person ended it, in words
    when sis-maint did (at the scheduled end, where policy re-enables by itself)."""
    if view.ended_by != SYSTEM:
        return f"by <@{view.ended_by}>"
    if view.ends_at is not None and view.ended_at is not None and view.ended_at >= view.ends_at:
        return "at its scheduled time"
    return "by sis-maint"
