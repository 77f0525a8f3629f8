"""Checking a series' rule, and changing a series: skipping one occurrence, editing its times.

Functions run inside the caller's transaction (bot.services.series opens it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.durations import format_duration
from bot.domain.recurrence import OVERLAP_CHECK, Occurrence, Recurrence
from bot.domain.series_states import LIVE, SeriesState
from bot.domain.states import FINAL, HOLDING, WindowState
from bot.errors import Conflict, InputError, NotFound
from bot.services import blackouts, occurrences
from bot.services.access import Access
from bot.services.series_view import SeriesView, recurrence_of, series_label
from bot.services.views import WindowView
from storage import audit, recurring, windows
from storage.models import Series

Span = tuple[datetime, datetime, str]


@dataclass(frozen=True)
class Skipped:
    """The occurrence left out, and its window if one was cancelled."""

    series: SeriesView
    occurrence: Occurrence
    cancelled: WindowView | None


@dataclass(frozen=True)
class Edited:
    """Windows moved to the new times, and those kept (their new start had passed)."""

    series: SeriesView
    moved: tuple[WindowView, ...]
    kept: tuple[WindowView, ...]


def day_text(day: date) -> str:
    """``Sat 12 Dec 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def check_rule(
    settings: Settings, environments: Sequence[str], rule: Recurrence, now: datetime
) -> list[Span]:
    """Refuse a rule that never occurs, starts beyond the horizon, overlaps itself or lasts
    longer than an environment allows; return the spans within the horizon to check against
    blackout periods."""
    horizon = settings.window_policy(environments).horizon
    ahead = rule.between(now, now + OVERLAP_CHECK)
    if not ahead:
        raise InputError("That rule has no occurrence in the coming year.")
    if ahead[0].start > now + horizon:
        raise InputError(
            f"The first occurrence is more than {format_duration(horizon)} ahead; "
            "ask for the series closer to it."
        )
    problem = rule.overlap_problem(now)
    if problem:
        raise InputError(problem[0].upper() + problem[1:])
    longest = max(o.end - o.start for o in ahead)
    for env in environments:
        limit = settings.max_duration(env)
        if longest > limit:
            raise InputError(
                f"An occurrence would last {format_duration(longest)}, longer than {env} allows "
                f"({format_duration(limit)}).",
                field="duration",
            )
    return [
        (o.start, o.end, f"The occurrence on {day_text(o.on)}")
        for o in ahead
        if o.start <= now + horizon
    ]


def record_override(
    session: Session, row: Series, allowed: blackouts.Override | None, now: datetime
) -> None:
    """Keep an approver's blackout override on the series; occurrences inherit it."""
    if allowed is None:
        row.override_by = row.override_reason = None
        row.overridden = []
        return
    row.override_by, row.override_reason = allowed.by, allowed.reason
    row.overridden = [b.key for b in allowed.blackouts]
    audit.add(
        session,
        at=now,
        actor=allowed.by,
        action="blackout_overridden",
        detail=f"{series_label(row.id)}: {allowed.reason} (inside {allowed.describe()})",
        data={"series": row.id, "blackouts": row.overridden, "reason": allowed.reason},
    )


def occurrence_of(session: Session, window_id: int) -> tuple[int, date]:
    """The series and date a window stands for; refuse a window that is not an occurrence."""
    window = windows.get_window(session, window_id)
    if window is None:
        raise NotFound(f"There is no window MW-{window_id}.")
    if window.series_id is None or window.occurrence_on is None:
        raise InputError(
            f"MW-{window_id} is not part of a series; `cancel MW-{window_id}` withdraws it."
        )
    return window.series_id, window.occurrence_on


def skip(
    session: Session, settings: Settings, row: Series, *, actor: str, day: date, now: datetime
) -> Skipped:
    """Leave out the occurrence on ``day``; cancel its window if it has one not yet started."""
    name = series_label(row.id)
    _refuse_closed(row, "has no occurrences to skip")
    rule = recurrence_of(row)
    if day in rule.skipped:
        raise Conflict(f"The occurrence of {name} on {day_text(day)} is already skipped.")
    occurrence = rule.on(day)
    if occurrence is None:
        following = rule.upcoming(now, 3)
        listing = ", ".join(f"{day_text(o.on)} ({o.on})" for o in following) or "none"
        raise InputError(
            f"{day} is not an occurrence of {name} ({rule.describe()}). The next are: {listing}."
        )
    # Locked, so that the scheduler cannot start it between this check and the cancel below.
    held = recurring.occurrence_windows(session, row.id, on=day, lock=True)
    window = held[0] if held else None
    if window is not None and window.state in HOLDING:
        raise Conflict(
            f"{window.number}, the occurrence of {name} on {day_text(day)}, has started; "
            f"`end {window.number}` ends it now."
        )
    if window is None:
        over = occurrence.start <= now
    else:
        over = window.state in FINAL and window.state != WindowState.CANCELLED
    if over:
        raise Conflict(f"The occurrence of {name} on {day_text(day)} is over; nothing to skip.")
    occurrences.skip_date(session, row, day, actor=actor, now=now, why=f"skipped by <@{actor}>")
    cancelled = occurrences.cancel_pending(session, settings, row, actor, now, on=day)
    return Skipped(SeriesView.of(row), occurrence, cancelled[0] if cancelled else None)


def edit(
    session: Session,
    settings: Settings,
    access: Access,
    row: Series,
    *,
    actor: str,
    times: tuple[time, timedelta, time | None],
    override: str | None,
    now: datetime,
) -> Edited:
    """New times for the series; windows not yet started move with them."""
    _refuse_closed(row, "cannot be edited; ask for a new series instead")
    old = recurrence_of(row)
    new = old.with_times(*times)
    if (new.wall, new.duration, new.ends_wall) == (old.wall, old.duration, old.ends_wall):
        raise InputError(f"{series_label(row.id)} already runs {old.describe()}.")
    spans = check_rule(settings, row.environments, new, now)
    allowed = blackouts.clear(
        session,
        settings,
        access,
        requester=actor,
        environments=row.environments,
        spans=spans,
        override=override,
    )
    row.dtstart = new.dtstart.isoformat(timespec="minutes")
    row.duration_seconds = int(new.duration.total_seconds())
    row.ends_wall = f"{new.ends_wall:%H:%M}" if new.ends_wall else None
    row.edited_by, row.edited_at = actor, now
    record_override(session, row, allowed, now)
    audit.add(
        session,
        at=now,
        actor=actor,
        action="series_edited",
        detail=f"{series_label(row.id)}: {old.describe()} -> {new.describe()}",
        data={"series": row.id},
    )
    moved: list[WindowView] = []
    kept: list[WindowView] = []
    if row.state == SeriesState.APPROVED:
        moved, kept = occurrences.reschedule(session, settings, row, now)
        occurrences.plan_materialise(session, row.id, now, now, f"edit-{row.version}")
    return Edited(SeriesView.of(row), tuple(moved), tuple(kept))


def _refuse_closed(row: Series, what: str) -> None:
    if row.state not in LIVE:
        done = "was denied" if row.state == SeriesState.DENIED else "has ended"
        raise Conflict(f"{series_label(row.id)} {done}, so it {what}.")
