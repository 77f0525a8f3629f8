"""A series' occurrences become ordinary windows, a lookahead before they start.

A ``materialise_series`` due action creates every occurrence that starts within
``[series] lookahead``, already approved by the series' approver, then plans itself again
for the next one. Each window so created gets what any approved window gets: reminders, the
notice to Coursedog, its card and thread, and the reconciler's switching and verification.
Running the action twice changes nothing (one window per series and local date).

An occurrence that falls in a blackout period the series' approver did not override is not
created: its date is skipped, and the series' thread says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.blackouts import Blackout, overlapping
from bot.domain.due_payloads import Materialise, write
from bot.domain.recurrence import Occurrence
from bot.domain.series_states import SeriesState
from bot.domain.states import RowStatus, WindowState
from bot.domain.webhooks import EventType
from bot.services import blackouts, notices, timetable, webhook_events
from bot.services.series_view import SeriesView, recurrence_of, series_label
from bot.services.views import WindowView
from bot.services.window_moves import cancel_window
from storage import audit, due, recurring, windows
from storage.models import Series, Window, WindowEnvironment

MATERIALISE = "materialise_series"
S = WindowState


def plan_materialise(
    session: Session, series_id: int, at: datetime, now: datetime, why: str = "next"
) -> None:
    """Create, at ``at``, the occurrences that start within the lookahead from then.

    ``why`` (``next``, ``approved``, ``edit-3``) keeps runs planned for different reasons at
    the same instant apart.
    """
    due.schedule_action(
        session,
        kind=MATERIALISE,
        due_at=at,
        dedup_key=f"{MATERIALISE}:{series_id}:{int(at.timestamp())}:{why}",
        now=now,
        payload=write(Materialise(series_id)),
    )


@dataclass(frozen=True)
class Created:
    """A window made for an occurrence."""

    window: WindowView
    occurrence: Occurrence


@dataclass(frozen=True)
class Materialised:
    """What one run created, and which occurrences it skipped for a blackout period."""

    series: SeriesView
    created: tuple[Created, ...]
    blacked_out: tuple[tuple[Occurrence, Blackout], ...]


def materialise(
    session: Session, settings: Settings, series_id: int, now: datetime
) -> Materialised | None:
    """Create the windows of occurrences starting within the lookahead; plan the next run."""
    row = recurring.get_series(session, series_id, lock=True)
    if row is None or row.state != SeriesState.APPROVED:
        return None
    rule = recurrence_of(row)
    lookahead = settings.series.lookahead
    have = {w.occurrence_on for w in recurring.occurrence_windows(session, row.id)}
    periods = blackouts.in_force(session, settings)
    created: list[Created] = []
    blacked: list[tuple[Occurrence, Blackout]] = []
    for occurrence in rule.between(now, now + lookahead):
        if occurrence.on in have:
            continue
        hits = overlapping(periods, row.environments, occurrence.start, occurrence.end)
        blocking = [b for b in hits if b.key not in row.overridden]
        if blocking:
            skip_date(
                session,
                row,
                occurrence.on,
                actor="system",
                now=now,
                why=f"falls in the blackout period {blocking[0].name}",
            )
            blacked.append((occurrence, blocking[0]))
            continue
        window = _create(session, settings, row, occurrence, hits=hits, now=now)
        created.append(Created(WindowView.of(window), occurrence))
    following = rule.next_after(now + lookahead)
    if following is not None:
        plan_materialise(session, row.id, following.start - lookahead, now)
    return Materialised(SeriesView.of(row), tuple(created), tuple(blacked))


def skip_date(
    session: Session, row: Series, day: date, *, actor: str, now: datetime, why: str
) -> None:
    """Leave one local date out of the series (an EXDATE)."""
    row.skipped = sorted({*row.skipped, day.isoformat()})
    audit.add(
        session,
        at=now,
        actor=actor,
        action="occurrence_skipped",
        detail=f"{series_label(row.id)} on {day:%a %-d %b %Y}: {why}",
        data={"series": row.id, "occurrence": day.isoformat()},
    )


def cancel_pending(
    session: Session,
    settings: Settings,
    row: Series,
    actor: str,
    now: datetime,
    *,
    on: date | None = None,
) -> list[WindowView]:
    """Cancel the series' windows that have not started (only the one ``on`` a date, if given)."""
    cancelled = []
    for window in recurring.occurrence_windows(session, row.id, [S.APPROVED], lock=True):
        if on is None or window.occurrence_on == on:
            cancel_window(session, settings, window, actor, now)
            cancelled.append(WindowView.of(window))
    return cancelled


def reschedule(
    session: Session, settings: Settings, row: Series, now: datetime
) -> tuple[list[WindowView], list[WindowView]]:
    """After an edit, move the windows that have not started to the new times.

    Returns those moved and those kept because their new start has already passed.
    """
    rule = recurrence_of(row)
    policy = settings.window_policy(row.environments)
    periods = blackouts.in_force(session, settings)
    moved, kept = [], []
    for window in recurring.occurrence_windows(session, row.id, [S.APPROVED], lock=True):
        assert window.occurrence_on is not None
        occurrence = rule.on(window.occurrence_on)
        if occurrence is None or occurrence.start <= now:
            kept.append(WindowView.of(window))
            continue
        if (occurrence.start, occurrence.end) == (window.starts_at, window.ends_at):
            continue
        old = (window.starts_at, window.ends_at)
        window.starts_at, window.ends_at = occurrence.start, occurrence.end
        window.duration_seconds = int((occurrence.end - occurrence.start).total_seconds())
        _note_override(
            row, window, overlapping(periods, row.environments, occurrence.start, occurrence.end)
        )
        timetable.cancel_all(session, window, now)
        timetable.plan_start(session, window, policy, now)
        stamp = f"{int(occurrence.start.timestamp())}-{int(occurrence.end.timestamp())}"
        notices.plan(session, settings, window, notices.MOVED, now, occurrence=stamp)
        audit.add(
            session,
            at=now,
            actor=row.edited_by or "system",
            action="occurrence_moved",
            window_id=window.id,
            detail=f"{series_label(row.id)} edited",
            data={
                "from": [t.isoformat() if t else None for t in old],
                "to": [occurrence.start.isoformat(), occurrence.end.isoformat()],
            },
        )
        moved.append(WindowView.of(window))
    return moved, kept


def _note_override(row: Series, window: Window, hits: list[Blackout]) -> None:
    """Carry the series' override onto a window that falls in periods it overrode."""
    allowed = [b for b in hits if b.key in row.overridden]
    if allowed and row.override_by:
        window.override_by, window.override_reason = row.override_by, row.override_reason
        window.overridden = "; ".join(b.describe() for b in allowed)
    else:
        window.override_by = window.override_reason = window.overridden = None


def _create(
    session: Session,
    settings: Settings,
    row: Series,
    occurrence: Occurrence,
    *,
    hits: list[Blackout],
    now: datetime,
) -> Window:
    """An approved window for one occurrence, with its timetable and its notice to Coursedog."""
    window = Window(
        state=S.APPROVED,
        requester_id=row.requester_id,
        reason=row.reason,
        ticket=row.ticket,
        requested_at=now,
        starts_at=occurrence.start,
        ends_at=occurrence.end,
        duration_seconds=int((occurrence.end - occurrence.start).total_seconds()),
        time_zone=row.time_zone,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        # Approved with its series, by the series' approvers.
        approved_by=list(row.approved_by),
        approvals_required=row.approvals_required,
        series_id=row.id,
        occurrence_on=occurrence.on,
    )
    _note_override(row, window, hits)
    window.environments = [
        WindowEnvironment(environment=env, position=i, status=RowStatus.PENDING)
        for i, env in enumerate(row.environments)
    ]
    windows.insert_window(session, window)
    timetable.plan_start(session, window, settings.window_policy(row.environments), now)
    notices.plan(session, settings, window, notices.APPROVED, now)
    audit.add(
        session,
        at=now,
        actor="system",
        action="occurrence_scheduled",
        window_id=window.id,
        detail=f"{series_label(row.id)} on {occurrence.on:%a %-d %b %Y}"
        + (f"; {occurrence.note}" if occurrence.note else ""),
        data={"series": row.id, "occurrence": occurrence.on.isoformat(), "by": row.decided_by},
    )
    webhook_events.window_event(
        session,
        EventType.APPROVED,
        window,
        now,
        actor=row.decided_by or "system",
        detail={"series": f"S-{row.id}"},
    )
    return window
