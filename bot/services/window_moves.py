"""Moves of one window inside the caller's transaction, and the checks its times must pass.

Shared by the services that change windows: people's commands (bot.services.windows), the
timetable's due actions (bot.services.timed) and series (bot.services.occurrences).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.durations import format_duration
from bot.domain.grammar import EndCommand
from bot.domain.states import HOLDING, RowStatus, WindowState, move_row, move_window
from bot.domain.webhooks import EventType
from bot.errors import Conflict, InputError, NotFound
from bot.services import blackouts, notices, timetable, webhook_events
from bot.services.access import label
from bot.services.blackouts import Override
from bot.services.plans import ROW_HELD_EARLY
from storage import audit, windows
from storage.models import Window, WindowEnvironment

S = WindowState


def record_request(
    session: Session,
    *,
    requester: str,
    environments: Sequence[str],
    reason: str,
    ticket: str | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    duration: timedelta,
    time_zone: str,
    now: datetime,
    override: Override | None = None,
    approvals_required: int = 1,
) -> Window:
    """A new request on ``environments``: from approval when ``starts_at`` is None, else for
    the set time; it expires if nobody decides it in time. ``override`` is an approver's
    decision to go ahead inside blackout periods, kept on the window and in the trail.

    The window returned is a snapshot out of the session: it is written once, here.
    """
    window = Window(
        state=S.REQUESTED,
        requester_id=requester,
        reason=reason,
        ticket=ticket or None,
        requested_at=now,
        starts_at=starts_at,
        ends_at=ends_at,
        duration_seconds=int(duration.total_seconds()),
        time_zone=time_zone,
        approved_by=[],
        approvals_required=approvals_required,
    )
    if override is not None:
        window.override_by, window.override_reason = override.by, override.reason
        window.overridden = override.describe()
    window.environments = [
        WindowEnvironment(environment=env, position=i, status=RowStatus.PENDING)
        for i, env in enumerate(environments)
    ]
    windows.insert_window(session, window)
    # Undecided by its start (or, for "now" requests, by the end of its span): expired.
    timetable.plan_expiry(session, window, starts_at or now + duration, now)
    audit.add(
        session,
        at=now,
        actor=requester,
        action="requested",
        window_id=window.id,
        detail=reason,
        data={
            "environments": list(environments),
            "duration_seconds": window.duration_seconds,
            "starts_at": starts_at.isoformat() if starts_at else None,
        },
    )
    if override is not None:
        blackouts.record_override(session, window, override, now)
    webhook_events.window_event(session, EventType.REQUESTED, window, now, actor=requester)
    return window


def load_window(session: Session, window_id: int, *, lock: bool = True) -> Window:
    """A window by number (locked for update unless ``lock`` is False), or NotFound."""
    window = windows.get_window(session, window_id, lock=lock)
    if window is None:
        raise NotFound(f"There is no window MW-{window_id}.")
    return window


def end_target(session: Session, command: EndCommand) -> Window:
    """The window an `end` means: the one named, or the one holding the environment named."""
    if command.window_id is not None:
        return load_window(session, command.window_id)
    env = command.environment or ""
    holding = windows.windows_on(session, env, HOLDING)
    if not holding:
        raise Conflict(f"No window holds {env} off right now.")
    if len(holding) > 1:
        ids = " and ".join(label(w) for w in holding)
        raise InputError(f"{env} is held by {ids}; say which one, e.g. `end {label(holding[-1])}`.")
    window = load_window(session, holding[0].id)
    others = [e for e in window.environment_names if e != env]
    if others:
        raise InputError(
            f"{label(window)} also covers {', '.join(others)}; "
            f"`end {label(window)}` ends it on all of them."
        )
    return window


def check_duration(settings: Settings, environments: Sequence[str], duration: timedelta) -> None:
    """A window lasts some time, and no longer than each of its environments allows."""
    if duration <= timedelta(0):
        raise InputError("The window must end after it starts.", field="end")
    for env in environments:
        limit = settings.max_duration(env)
        if duration > limit:
            raise InputError(
                f"{format_duration(duration)} is longer than {env} allows "
                f"({format_duration(limit)}). Ask for less, or extend later.",
                field="duration",
            )


def check_times(starts_at: datetime, ends_at: datetime, now: datetime, horizon: timedelta) -> None:
    """A set time starts after now, within the horizon, and ends after it starts."""
    if starts_at <= now:
        raise InputError("That start time is in the past. Use `start` to begin now.", field="start")
    if starts_at > now + horizon:
        raise InputError(
            f"That start is more than {format_duration(horizon)} ahead; "
            "schedule it closer to the date.",
            field="start",
        )
    if ends_at <= starts_at:
        raise InputError("The window must end after it starts.", field="end")


def extend_window(
    session: Session,
    settings: Settings,
    window: Window,
    *,
    by: timedelta,
    actor: str,
    now: datetime,
) -> None:
    """Move the end of a scheduled or holding window by ``by`` (from now if its end has
    passed), replan what hangs on the end and tell Coursedog."""
    assert window.starts_at is not None and window.ends_at is not None
    new_end = max(window.ends_at, now) + by
    check_duration(settings, window.environment_names, new_end - window.starts_at)
    old_end, window.ends_at = window.ends_at, new_end
    window.duration_seconds = int((new_end - window.starts_at).total_seconds())
    if window.state in HOLDING:
        # An approved window plans its end when it starts; a holding one replans now.
        timetable.cancel_end_actions(session, window, now)
        policy = settings.window_policy(window.environment_names)
        timetable.plan_end(session, window, policy, now)
    notices.plan(
        session, settings, window, notices.EXTENDED, now, occurrence=str(int(new_end.timestamp()))
    )
    audit.add(
        session,
        at=now,
        actor=actor,
        action="extended",
        window_id=window.id,
        detail=f"by {format_duration(by)}",
        data={"from": old_end.isoformat(), "to": new_end.isoformat()},
    )
    webhook_events.window_event(
        session,
        EventType.EXTENDED,
        window,
        now,
        actor=actor,
        detail={"from": old_end.isoformat(), "to": new_end.isoformat()},
        once_per=str(int(new_end.timestamp())),
    )


def end_window(
    session: Session, window: Window, actor: str, now: datetime, *, why: str = ""
) -> None:
    """Move a holding window to ended and hand its environments to the reconciler; ``why``
    says what ended it when no person did."""
    move_window(window, S.ENDED)
    window.ended_by, window.ended_at = actor, now
    for row in window.environments:
        move_row(row, RowStatus.ENDING)
    timetable.cancel_all(session, window, now)
    audit.add(session, at=now, actor=actor, action="ended", window_id=window.id, detail=why)
    webhook_events.window_event(
        session, EventType.ENDED, window, now, actor=actor, detail={"why": why}
    )


def release_rows(window: Window) -> None:
    """A window that never started lets its environments go: untouched ones as they are, and
    those whose checklist was opened early to their restore."""
    for row in window.environments:
        move_row(row, RowStatus.ENDING if row.status in ROW_HELD_EARLY else RowStatus.RELEASED)


def cancel_window(
    session: Session,
    settings: Settings,
    window: Window,
    actor: str,
    now: datetime,
    *,
    why: str = "",
) -> None:
    """Withdraw a window that has not started (Coursedog hears of it if it was told)."""
    if window.state == S.APPROVED:  # Coursedog was told; tell it again
        notices.plan(session, settings, window, notices.CANCELLED, now)
    move_window(window, S.CANCELLED)
    release_rows(window)
    timetable.cancel_all(session, window, now)
    audit.add(session, at=now, actor=actor, action="cancelled", window_id=window.id, detail=why)
    webhook_events.window_event(
        session, EventType.CANCELLED, window, now, actor=actor, detail={"why": why}
    )
