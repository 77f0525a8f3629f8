"""What happens to a window when one of its due actions comes round. Ledger only.

Each function runs inside the action's lease transaction (see bot.jobs.scheduler), so its effect
commits together with the action's completion, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.states import HOLDING, RowStatus, WindowState, move_row, move_window
from bot.domain.webhooks import EventType
from bot.services import timetable, webhook_events
from bot.services.views import SYSTEM, WindowView
from bot.services.window_moves import end_window, release_rows
from storage import audit, windows
from storage.models import Window

S = WindowState


class Outcome(StrEnum):
    """What a due action turned out to mean."""

    SKIPPED = "skipped"  # nothing to do any more (decided, cancelled, extended, ended)
    EXPIRED = "expired"
    MISSED = "missed"  # approved, but its whole time passed while the bot was down
    STARTED = "started"
    REMIND_START = "remind_start"
    REMIND_END = "remind_end"
    ENDED = "ended"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Timed:
    """The outcome, the window after it, and for overdue notices their number."""

    outcome: Outcome
    view: WindowView | None = None
    number: int = 0
    escalate: bool = False


SKIP = Timed(Outcome.SKIPPED)


def _window(session: Session, window_id: int | None) -> Window | None:
    return None if window_id is None else windows.get_window(session, window_id, lock=True)


def on_expire(session: Session, window_id: int | None, now: datetime) -> Timed:
    """A request nobody decided in time expires."""
    window = _window(session, window_id)
    if window is None or window.state != S.REQUESTED:
        return SKIP
    move_window(window, S.EXPIRED)
    for row in window.environments:
        move_row(row, RowStatus.RELEASED)
    audit.add(session, at=now, actor="system", action="expired", window_id=window.id)
    webhook_events.window_event(
        session, EventType.EXPIRED, window, now, actor="system", detail={"why": "undecided"}
    )
    return Timed(Outcome.EXPIRED, WindowView.of(window))


def on_start(settings: Settings, session: Session, window_id: int | None, now: datetime) -> Timed:
    """An approved window's start: it becomes active (or is missed if already over)."""
    window = _window(session, window_id)
    if window is None or window.state != S.APPROVED:
        return SKIP
    assert window.ends_at is not None
    if window.ends_at <= now:
        move_window(window, S.EXPIRED)
        release_rows(window)
        audit.add(session, at=now, actor="system", action="missed", window_id=window.id)
        webhook_events.window_event(
            session, EventType.EXPIRED, window, now, actor="system", detail={"why": "missed"}
        )
        return Timed(Outcome.MISSED, WindowView.of(window))
    move_window(window, S.ACTIVE)
    policy = settings.window_policy(window.environment_names)
    timetable.plan_end(session, window, policy, now)
    audit.add(session, at=now, actor="system", action="started", window_id=window.id)
    webhook_events.window_event(session, EventType.ACTIVE, window, now, actor="system")
    return Timed(Outcome.STARTED, WindowView.of(window))


def on_remind_start(session: Session, window_id: int | None, now: datetime) -> Timed:
    """Before the start: worth telling only while the window is approved and still ahead."""
    window = _window(session, window_id)
    if window is None or window.state != S.APPROVED or not window.starts_at:
        return SKIP
    if window.starts_at <= now:
        return SKIP  # the start itself reports
    return Timed(Outcome.REMIND_START, WindowView.of(window))


def on_remind_end(session: Session, window_id: int | None, now: datetime) -> Timed:
    """Before the end: worth telling only while the window holds and its end is ahead."""
    window = _window(session, window_id)
    if window is None or window.state not in HOLDING or not window.ends_at:
        return SKIP
    if window.ends_at <= now:
        return SKIP  # the end itself reports
    return Timed(Outcome.REMIND_END, WindowView.of(window))


def on_end(settings: Settings, session: Session, window_id: int | None, now: datetime) -> Timed:
    """The end time: restore automatically where policy says so, otherwise start asking."""
    window = _window(session, window_id)
    if window is None or window.state not in HOLDING or not window.ends_at:
        return SKIP
    if window.ends_at > now:
        return SKIP  # extended meanwhile; a newer end action exists
    policy = settings.window_policy(window.environment_names)
    if policy.auto_reenable:
        end_window(session, window, SYSTEM, now, why="at its scheduled time")
        return Timed(Outcome.ENDED, WindowView.of(window))
    timetable.plan_nag(session, window, 2, now + policy.nag_every, now)
    return Timed(
        Outcome.OVERDUE, WindowView.of(window), number=1, escalate=policy.escalate_after <= 1
    )


def on_nag(
    settings: Settings, session: Session, window_id: int | None, number: int, now: datetime
) -> Timed:
    """The ``number``-th reminder that a window past its end still holds merges off."""
    window = _window(session, window_id)
    if window is None or window.state not in HOLDING or not window.ends_at:
        return SKIP
    if window.ends_at > now:
        return SKIP
    policy = settings.window_policy(window.environment_names)
    timetable.plan_nag(session, window, number + 1, now + policy.nag_every, now)
    return Timed(
        Outcome.OVERDUE,
        WindowView.of(window),
        number=number,
        escalate=number >= policy.escalate_after,
    )
